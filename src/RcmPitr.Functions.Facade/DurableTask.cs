// Facade of Microsoft.DurableTask.Abstractions / .Client — compile-only, never shipped. Member kinds
// (abstract / virtual / non-virtual) follow the real types, so Moq behaves as it does against them.
using Microsoft.Extensions.Logging;

namespace Microsoft.DurableTask
{
    public readonly struct TaskName(string name) : IEquatable<TaskName>
    {
        public string Name { get; } = name;

        public static implicit operator TaskName(string value) => new(value);

        public static implicit operator string(TaskName value) => value.Name;

        public bool Equals(TaskName other) => string.Equals(Name, other.Name, StringComparison.OrdinalIgnoreCase);

        public override bool Equals(object? obj) => obj is TaskName other && Equals(other);

        public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Name ?? string.Empty);

        public override string ToString() => Name;

        public static bool operator ==(TaskName left, TaskName right) => left.Equals(right);

        public static bool operator !=(TaskName left, TaskName right) => !left.Equals(right);
    }

    public record TaskFailureDetails(string ErrorType, string ErrorMessage, string? StackTrace, TaskFailureDetails? InnerFailure, IDictionary<string, object?>? Properties)
    {
        public bool IsCausedBy<T>()
            where T : Exception => throw new NotSupportedException("Compile-only facade.");
    }

    public sealed class TaskFailedException : Exception
    {
        public TaskFailedException(string taskName, int taskId, TaskFailureDetails failureDetails)
            : base($"Task '{taskName}' (#{taskId}) failed with an unhandled exception: {failureDetails?.ErrorMessage}")
        {
            TaskName = taskName;
            TaskId = taskId;
            FailureDetails = failureDetails!;
        }

        public string TaskName { get; }
        public int TaskId { get; }
        public TaskFailureDetails FailureDetails { get; }
    }

    public class RetryPolicy
    {
        public RetryPolicy(int maxNumberOfAttempts, TimeSpan firstRetryInterval, double backoffCoefficient = 1.0, TimeSpan? maxRetryInterval = null, TimeSpan? retryTimeout = null)
        {
            MaxNumberOfAttempts = maxNumberOfAttempts;
            FirstRetryInterval = firstRetryInterval;
            BackoffCoefficient = backoffCoefficient;
            MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
            RetryTimeout = retryTimeout ?? Timeout.InfiniteTimeSpan;
        }

        public int MaxNumberOfAttempts { get; }
        public TimeSpan FirstRetryInterval { get; }
        public double BackoffCoefficient { get; }
        public TimeSpan MaxRetryInterval { get; }
        public TimeSpan RetryTimeout { get; }
        public Func<TaskFailureDetails, bool> HandleFailure { get; init; } = _ => true;
    }

    public sealed class TaskRetryOptions
    {
        public TaskRetryOptions(RetryPolicy policy) => Policy = policy;

        public RetryPolicy? Policy { get; }

        public static implicit operator TaskRetryOptions(RetryPolicy policy) => new(policy);
    }

    public record TaskOptions
    {
        public TaskOptions(TaskRetryOptions? retry = null, IDictionary<string, string>? tags = null)
        {
            Retry = retry;
            Tags = tags;
        }

        public TaskRetryOptions? Retry { get; init; }
        public IDictionary<string, string>? Tags { get; init; }

        public static TaskOptions FromRetryPolicy(RetryPolicy policy) => new(new TaskRetryOptions(policy));
    }

    public abstract class TaskOrchestrationContext
    {
        public abstract TaskName Name { get; }
        public abstract string InstanceId { get; }
        public abstract DateTime CurrentUtcDateTime { get; }
        public abstract bool IsReplaying { get; }
        protected abstract ILoggerFactory LoggerFactory { get; }

        public abstract T? GetInput<T>();

        public abstract Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null);

        public virtual Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken) => CreateTimer(CurrentUtcDateTime.Add(delay), cancellationToken);

        public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

        public abstract Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default);

        public abstract void SetCustomStatus(object? customStatus);

        public abstract Guid NewGuid();

        public virtual ILogger CreateReplaySafeLogger(string categoryName) => throw new NotSupportedException("Compile-only facade.");
    }

    public sealed class Page<T>(IReadOnlyList<T> values, string? continuationToken = null)
        where T : notnull
    {
        public IReadOnlyList<T> Values { get; } = values;
        public string? ContinuationToken { get; } = continuationToken;
    }

    public abstract class AsyncPageable<T> : IAsyncEnumerable<T>
        where T : notnull
    {
        public abstract IAsyncEnumerable<Page<T>> AsPages(string? continuationToken = default, int? pageSizeHint = default);

        public virtual async IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            await foreach (var page in AsPages().WithCancellation(cancellationToken))
            {
                foreach (var value in page.Values)
                {
                    yield return value;
                }
            }
        }
    }
}

namespace Microsoft.DurableTask.Client
{
    public enum OrchestrationRuntimeStatus
    {
        Running,
        Completed,
        ContinuedAsNew,
        Failed,
        Canceled,
        Terminated,
        Pending,
        Suspended,
    }

    public record StartOrchestrationOptions(string? InstanceId = null, DateTimeOffset? StartAt = null);

    public record OrchestrationQuery(
        DateTimeOffset? CreatedFrom = null,
        DateTimeOffset? CreatedTo = null,
        IEnumerable<OrchestrationRuntimeStatus>? Statuses = null,
        IEnumerable<string>? TaskHubNames = null,
        string? InstanceIdPrefix = null,
        int PageSize = 100,
        bool FetchInputsAndOutputs = false,
        string? ContinuationToken = null);

    public sealed class OrchestrationMetadata(string name, string instanceId)
    {
        public string Name { get; } = name;
        public string InstanceId { get; } = instanceId;
        public OrchestrationRuntimeStatus RuntimeStatus { get; init; }
        public DateTimeOffset CreatedAt { get; init; }
        public DateTimeOffset LastUpdatedAt { get; init; }
        public string? SerializedInput { get; init; }
        public string? SerializedOutput { get; init; }
        public string? SerializedCustomStatus { get; init; }
        public Microsoft.DurableTask.TaskFailureDetails? FailureDetails { get; init; }
        public bool IsRunning => RuntimeStatus == OrchestrationRuntimeStatus.Running;
    }

    public abstract class DurableTaskClient(string name) : IAsyncDisposable
    {
        public string Name { get; } = name;

        public abstract Task<string> ScheduleNewOrchestrationInstanceAsync(
            Microsoft.DurableTask.TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default);

        public abstract Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default);

        public virtual Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
            GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation);

        public abstract Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default);

        public abstract Microsoft.DurableTask.AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null);

        public virtual Task TerminateInstanceAsync(string instanceId, object? output, CancellationToken cancellation = default) =>
            throw new NotSupportedException("compile-only facade");

        public abstract ValueTask DisposeAsync();
    }
}
