using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Workflow.Tests.Restores;

/// <summary>
/// An in-memory orchestration context for orchestrator tests: activities are scripted per name (strict: an
/// unscripted call fails the test), every call is recorded in order, timers fire at once by moving the
/// fake clock to their due time, and events are delivered to waiters or buffered like Durable does.
/// Retry policies are applied here exactly as the engines apply them.
/// </summary>
internal sealed class ScriptedContext(string instanceId = "run-1") : IOrchestrationContext
{
    private readonly Dictionary<string, Func<object?, object?>> _activities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<object?>> _buffered = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<(TaskCompletionSource<object?> Source, Type Type)>> _waiters = new(StringComparer.OrdinalIgnoreCase);
    private int _guids;

    public string InstanceId { get; } = instanceId;
    public DateTime CurrentUtcDateTime { get; private set; } = new(2026, 4, 23, 9, 0, 0, DateTimeKind.Utc);
    public bool IsReplaying => false;
    public List<(string Name, object? Input, int Attempt)> Calls { get; } = [];
    public List<DateTime> Timers { get; } = [];

    /// <summary>Activity calls and timers in the order the orchestrator made them: <c>"call Name"</c>, <c>"timer +00:00:30"</c>.</summary>
    public List<string> Log { get; } = [];
    public object? CustomStatus { get; private set; }
    public List<object?> StatusHistory { get; } = [];

    public ScriptedContext On<TInput, TResult>(string activity, Func<TInput, TResult> handler)
    {
        _activities[activity] = input => handler((TInput)input!);
        return this;
    }

    public ScriptedContext On(string activity, Func<object?, object?> handler)
    {
        _activities[activity] = handler;
        return this;
    }

    public IEnumerable<string> CallNames => Calls.Select(c => c.Name);

    public IEnumerable<T> InputsOf<T>(string activity) => Calls.Where(c => c.Name == activity).Select(c => (T)c.Input!);

    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input, RetryPolicy? retry = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            Calls.Add((name, input, attempt));
            Log.Add("call " + name);
            if (!_activities.TryGetValue(name, out var handler))
            {
                throw new InvalidOperationException($"Unscripted activity '{name}'.");
            }

            try
            {
                return (TResult)handler(input)!;
            }
            catch (Exception e) when (e is not InvalidCastException)
            {
                var failure = ActivityFailureDetails.FromException(e);
                if (retry is null || attempt >= retry.MaxNumberOfAttempts || !RetryPolicy.IsRetryable(failure))
                {
                    throw new ActivityFailedException(name, failure);
                }

                await CreateTimer(CurrentUtcDateTime.Add(retry.DelayBefore(attempt + 1)), CancellationToken.None);
            }
        }
    }

    public Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        Timers.Add(fireAt);
        Log.Add($"timer +{fireAt - CurrentUtcDateTime}");
        if (fireAt > CurrentUtcDateTime)
        {
            CurrentUtcDateTime = fireAt;
        }

        return Task.CompletedTask;
    }

    public Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default)
    {
        if (_buffered.TryGetValue(eventName, out var queue) && queue.Count > 0)
        {
            return Task.FromResult((T)queue.Dequeue()!);
        }

        var source = new TaskCompletionSource<object?>(TaskCreationOptions.None);
        cancellationToken.Register(() => source.TrySetCanceled(cancellationToken));
        if (!_waiters.TryGetValue(eventName, out var list))
        {
            _waiters[eventName] = list = [];
        }

        list.Add((source, typeof(T)));
        return Cast<T>(source.Task);
    }

    private static async Task<T> Cast<T>(Task<object?> task) => (T)(await task)!;

    /// <summary>Delivers an event to the oldest waiter, or buffers it.</summary>
    public void Raise(string eventName, object payload)
    {
        if (_waiters.TryGetValue(eventName, out var list))
        {
            while (list.Count > 0)
            {
                var (source, _) = list[0];
                list.RemoveAt(0);
                if (source.TrySetResult(payload))
                {
                    return;
                }
            }
        }

        if (!_buffered.TryGetValue(eventName, out var queue))
        {
            _buffered[eventName] = queue = new Queue<object?>();
        }

        queue.Enqueue(payload);
    }

    public void SetCustomStatus(object? customStatus)
    {
        CustomStatus = customStatus;
        StatusHistory.Add(customStatus);
    }

    public Guid NewGuid() => new(++_guids, 0, 0, new byte[8]);

    public ILogger CreateReplaySafeLogger(string categoryName) => NullLogger.Instance;
}
