using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// Keeps the pre-restore database for the retention period, then drops it — a durable timer in an instance
/// of its own, so it outlives the restore run. If a rollback swapped it back in the meantime there is no
/// <c>_pre_pitr_</c> database any more and the drop is a no-op.
/// </summary>
public sealed class RetentionDropOrchestrator
{
    /// <summary>The orchestrator's registered name.</summary>
    public const string Name = "DropKeptDatabase";

    /// <summary>The deterministic instance id for a restore run's retention timer.</summary>
    public static string InstanceIdFor(string restoreRunId) => $"{restoreRunId}-drop-kept";

    /// <summary>Waits, then drops.</summary>
    public async Task<DropDerivedDatabaseResult> RunAsync(IOrchestrationContext context, RetentionDropRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        context.SetCustomStatus(new { phase = "waiting", dropAfterUtc = request.DropAfterUtc });
        await context.CreateTimer(request.DropAfterUtc, CancellationToken.None);
        var result = await context.CallActivityAsync<DropDerivedDatabaseResult>(
            ActivityNames.DropDerivedDatabase,
            new DropDerivedDatabaseInput(request.RunId, request.Live, request.Tenant, request.Stamp, DerivedDatabaseKind.PrePitr),
            RetryPolicy.Transient);
        context.SetCustomStatus(new { phase = "completed", database = result.DatabaseName, dropped = result.Dropped });
        return result;
    }
}
