using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RcmPitr.Engine.History;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.Replay;

/// <summary>
/// The embedded engine's <see cref="IOrchestrationContext"/>. Every activity call and timer gets the next
/// task id; ids found in history must match what the code asks for now (else the orchestrator is not
/// deterministic); ids beyond history are new actions the episode will persist. Results are fed back from
/// history in recorded order.
/// </summary>
internal sealed class ReplayContext : IOrchestrationContext
{
    private readonly IReadOnlyDictionary<int, RecordedAction> _recordedActions;
    private readonly Dictionary<int, (string Name, TaskCompletionSource<JsonElement> Source)> _activities = [];
    private readonly Dictionary<int, TaskCompletionSource> _timers = [];
    private readonly Dictionary<string, Queue<JsonElement>> _bufferedEvents = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<TaskCompletionSource<JsonElement>>> _eventWaiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILoggerFactory _loggers;
    private int _nextTaskId;
    private int _guidCounter;

    public ReplayContext(string instanceId, IReadOnlyDictionary<int, RecordedAction> recordedActions, ILoggerFactory loggers)
    {
        InstanceId = instanceId;
        _recordedActions = recordedActions;
        _loggers = loggers;
    }

    public string InstanceId { get; }
    public DateTime CurrentUtcDateTime { get; set; }
    public bool IsReplaying { get; set; }
    public List<HistoryEvent> NewActions { get; } = [];
    public JsonElement? CustomStatus { get; private set; }

    /// <summary>Set when the code diverged from history; the episode fails even if the orchestrator caught it.</summary>
    public NonDeterministicOrchestrationException? NonDeterminism { get; private set; }

    /// <summary>How many actions (activity calls and timers) the code has asked for so far.</summary>
    public int RequestedActions => _nextTaskId;
    public bool CustomStatusChanged { get; private set; }

    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input, RetryPolicy? retry = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return EngineJson.FromElement<TResult>(await ScheduleActivity(name, input))!;
            }
            catch (ActivityFailedException e) when (retry is not null && attempt < retry.MaxNumberOfAttempts && RetryPolicy.IsRetryable(e.Failure))
            {
                await CreateTimer(CurrentUtcDateTime.Add(retry.DelayBefore(attempt + 1)), CancellationToken.None);
            }
        }
    }

    public Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        var id = NextAction(HistoryEventKinds.TimerCreated, null, () =>
            new HistoryEvent(HistoryEventKinds.TimerCreated, CurrentUtcDateTime, FireAt: DateTime.SpecifyKind(fireAt, DateTimeKind.Utc)));
        var source = new TaskCompletionSource();
        _timers[id] = source;
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() => source.TrySetCanceled(cancellationToken));
        }

        return source.Task;
    }

    public Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default)
    {
        var source = new TaskCompletionSource<JsonElement>();
        if (_bufferedEvents.TryGetValue(eventName, out var buffered) && buffered.Count > 0)
        {
            source.SetResult(buffered.Dequeue());
        }
        else
        {
            if (!_eventWaiters.TryGetValue(eventName, out var waiters))
            {
                _eventWaiters[eventName] = waiters = [];
            }

            waiters.Add(source);
            if (cancellationToken.CanBeCanceled)
            {
                cancellationToken.Register(() => source.TrySetCanceled(cancellationToken));
            }
        }

        return Convert<T>(source.Task);
    }

    public void SetCustomStatus(object? customStatus)
    {
        CustomStatus = customStatus is null ? null : EngineJson.ToElement(customStatus);
        CustomStatusChanged = true;
    }

    public Guid NewGuid()
    {
        // Name-based (version 5 style): the same instance and counter give the same GUID on every replay.
        var hash = SHA1.HashData(Encoding.UTF8.GetBytes($"{InstanceId}:{_guidCounter++}"));
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    public ILogger CreateReplaySafeLogger(string categoryName) => new ReplaySafeLogger(this, _loggers.CreateLogger(categoryName));

    /// <summary>Feeds one history event (recorded or new) to the waiting code.</summary>
    public void Apply(HistoryEvent e)
    {
        switch (e.Kind)
        {
            case HistoryEventKinds.OrchestratorStarted:
                CurrentUtcDateTime = e.Timestamp;
                break;
            case HistoryEventKinds.TaskCompleted when _activities.TryGetValue(e.TaskId!.Value, out var completed):
                completed.Source.TrySetResult(e.Payload ?? EngineJson.ToElement(null));
                break;
            case HistoryEventKinds.TaskFailed when _activities.TryGetValue(e.TaskId!.Value, out var failed):
                failed.Source.TrySetException(new ActivityFailedException(failed.Name, e.Failure ?? new ActivityFailureDetails("Unknown", "no details")));
                break;
            case HistoryEventKinds.TimerFired when _timers.TryGetValue(e.TaskId!.Value, out var timer):
                timer.TrySetResult();
                break;
            case HistoryEventKinds.EventRaised:
                DeliverEvent(e.Name!, e.Payload ?? EngineJson.ToElement(null));
                break;
        }
    }

    private Task<JsonElement> ScheduleActivity(string name, object? input)
    {
        var id = NextAction(HistoryEventKinds.TaskScheduled, name, () =>
            new HistoryEvent(HistoryEventKinds.TaskScheduled, CurrentUtcDateTime, Name: name, Payload: EngineJson.ToElement(input)));
        var source = new TaskCompletionSource<JsonElement>();
        _activities[id] = (name, source);
        return source.Task;
    }

    private int NextAction(string kind, string? name, Func<HistoryEvent> create)
    {
        var id = _nextTaskId++;
        if (_recordedActions.TryGetValue(id, out var recorded))
        {
            if (recorded.Event.Kind != kind || recorded.Event.Name != name)
            {
                throw NonDeterminism = new NonDeterministicOrchestrationException(
                    $"Instance {InstanceId}: history event #{recorded.Index} recorded {RecordedAction.Describe(recorded.Event.Kind, recorded.Event.Name)} " +
                    $"(task {id}), but the orchestrator code now asks for {RecordedAction.Describe(kind, name)} there. " +
                    "The orchestrator code changed under this instance, or is not deterministic.");
            }
        }
        else
        {
            NewActions.Add(create() with { TaskId = id });
        }

        return id;
    }

    private void DeliverEvent(string name, JsonElement payload)
    {
        if (_eventWaiters.TryGetValue(name, out var waiters))
        {
            while (waiters.Count > 0)
            {
                var waiter = waiters[0];
                waiters.RemoveAt(0);
                if (waiter.TrySetResult(payload))
                {
                    return;
                }
            }
        }

        if (!_bufferedEvents.TryGetValue(name, out var queue))
        {
            _bufferedEvents[name] = queue = new Queue<JsonElement>();
        }

        queue.Enqueue(payload);
    }

    private static async Task<T> Convert<T>(Task<JsonElement> task) => EngineJson.FromElement<T>(await task)!;

    private sealed class ReplaySafeLogger(ReplayContext context, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !context.IsReplaying && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!context.IsReplaying)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
