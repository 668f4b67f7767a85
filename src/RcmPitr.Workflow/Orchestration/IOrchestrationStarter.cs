namespace RcmPitr.Workflow.Orchestration;

/// <summary>
/// Starts another orchestration instance from an activity (for example the retention timer that drops a
/// kept database a week later, which must outlive the restore run). Starting an id that exists is a no-op,
/// so the activity is idempotent.
/// </summary>
public interface IOrchestrationStarter
{
    /// <summary>Starts <paramref name="orchestratorName"/> as <paramref name="instanceId"/> unless that id exists; true when started now.</summary>
    Task<bool> StartIfAbsentAsync(string orchestratorName, string instanceId, object input, CancellationToken cancellationToken);
}
