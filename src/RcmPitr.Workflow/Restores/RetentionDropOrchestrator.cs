using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// Keeps a database for the retention period, then drops it — a durable timer in an instance of its own, so it
/// outlives the run that kept it: the <c>_pre_pitr_</c> database a swap kept, or the <c>_rollback_</c> one a rollback
/// parked. The drop takes only a database carrying the keeping run's marker, so a rollback that brought the kept
/// database back (the rollback also stops this timer), or anything else under that name, is never dropped.
/// </summary>
public sealed class RetentionDropOrchestrator
{
    /// <summary>The orchestrator's registered name.</summary>
    public const string Name = "DropKeptDatabase";

    /// <summary>The deterministic instance id of the retention timer of <paramref name="restoreRunId"/>'s kept (or parked) database.</summary>
    public static string InstanceIdFor(string restoreRunId, DerivedDatabaseKind kind = DerivedDatabaseKind.PrePitr) =>
        kind == DerivedDatabaseKind.Rollback ? $"{restoreRunId}-drop-parked" : $"{restoreRunId}-drop-kept";

    /// <summary>Waits, then drops.</summary>
    public async Task<DropDerivedDatabaseResult> RunAsync(IOrchestrationContext context, RetentionDropRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        context.SetCustomStatus(new { phase = "waiting", dropAfterUtc = request.DropAfterUtc, kind = request.Kind });
        await context.CreateTimer(request.DropAfterUtc, CancellationToken.None);
        var result = await context.CallActivityAsync<DropDerivedDatabaseResult>(
            ActivityNames.DropDerivedDatabase,
            new DropDerivedDatabaseInput(request.RunId, request.Live, request.Tenant, request.Stamp, request.Kind, request.LiveDatabase),
            RetryPolicy.Transient);
        context.SetCustomStatus(new { phase = "completed", database = result.DatabaseName, dropped = result.Dropped, notOurs = result.NotOurs });
        return result;
    }
}
