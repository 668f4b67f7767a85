namespace RcmPitr.Workflow.Orchestration;

/// <summary>
/// Stops another orchestration instance from an activity (for example the retention timer of a kept database a
/// rollback brought back). Stopping an instance that is absent or already ended is a no-op, so the activity is idempotent.
/// </summary>
public interface IOrchestrationTerminator
{
    /// <summary>Terminates <paramref name="instanceId"/> if it is active; true when it was stopped now.</summary>
    Task<bool> TerminateIfActiveAsync(string instanceId, string reason, CancellationToken cancellationToken);
}
