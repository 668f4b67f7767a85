using Microsoft.Extensions.Logging;

namespace RcmPitr.Workflow.Orchestration;

/// <summary>
/// The few operations an orchestrator needs, mirroring Durable Task's <c>TaskOrchestrationContext</c>, so the
/// same orchestrator code runs on the embedded engine and, through an adapter, on Azure Durable Functions.
/// Orchestrators must be deterministic: time, GUIDs, timers and I/O come only from here.
/// </summary>
public interface IOrchestrationContext
{
    /// <summary>The orchestration instance id (the restore's run id).</summary>
    string InstanceId { get; }

    /// <summary>The replay-safe current time (UTC): the time the current episode started.</summary>
    DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the orchestrator re-executes recorded history.</summary>
    bool IsReplaying { get; }

    /// <summary>
    /// Schedules an activity and returns its result. A failure (after <paramref name="retry"/> is exhausted)
    /// surfaces as <see cref="ActivityFailedException"/>.
    /// </summary>
    Task<TResult> CallActivityAsync<TResult>(string name, object? input, RetryPolicy? retry = null);

    /// <summary>A durable timer that fires at <paramref name="fireAt"/> (UTC), surviving restarts.</summary>
    Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    /// <summary>
    /// Waits for an external event. Events raised before the wait are kept and delivered in arrival order.
    /// Cancelling <paramref name="cancellationToken"/> cancels the wait (<see cref="TaskCanceledException"/>).
    /// </summary>
    Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>Replaces the instance's custom status (a human-readable timeline; never secrets).</summary>
    void SetCustomStatus(object? customStatus);

    /// <summary>A deterministic new GUID (the same on every replay).</summary>
    Guid NewGuid();

    /// <summary>A logger that is silent while replaying.</summary>
    ILogger CreateReplaySafeLogger(string categoryName);
}
