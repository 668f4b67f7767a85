using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// The runbook's rollback: while the kept <c>_pre_pitr_</c> database exists, swap it back (the restored copy
/// is parked as <c>_rollback_</c>), invalidate caches, audit.
/// </summary>
public sealed class RollbackOrchestrator
{
    /// <summary>The orchestrator's registered name.</summary>
    public const string Name = "RollbackRestore";

    /// <summary>Runs the rollback.</summary>
    public async Task<RestoreResult> RunAsync(IOrchestrationContext context, RollbackRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        var stamp = RestoreStamp.From(request.RestoreTime).Value;
        var run = new RestoreRun(context, new RestoreRequest(request.Tenant, request.RestoreTime, RestoreMode.Restore, CutoverStrategy.SwapAndKeep, request.Reason, request.RequestedBy));
        run.CutoverStarted = true; // a rollback is never auto-compensated, and cancel does not apply
        var tenant = run.Tenant = await run.StepAsync(
            RestoreSteps.Resolve,
            () => run.CallAsync<TenantInfo>(ActivityNames.ResolveTenant, new ResolveTenantInput(request.Tenant, RequireActive: false)),
            t => t.DatabaseName);
        var rolledBack = await run.StepAsync(
            RestoreSteps.Rollback,
            () => run.CallAsync<RollbackSwapResult>(ActivityNames.RollbackSwap, new RollbackSwapInput(request.RestoreRunId, tenant.Server, request.Tenant, stamp)),
            r => $"previous database is {r.CanonicalDatabase} again; restored copy parked as {r.ParkedDatabase}");
        await run.StepAsync(
            RestoreSteps.InvalidateCache,
            () => run.CallAsync<bool>(ActivityNames.InvalidateTenantCache, new InvalidateTenantCacheInput(tenant.TenantId)),
            _ => "pg_notify('tenant.status.changed')");
        await RestoreTenantOrchestrator.WriteAuditAsync(run, AuditEvents.PitrRolledBack, parity: null, extra: new()
        {
            ["restoreRunId"] = request.RestoreRunId,
            ["parkedDatabase"] = rolledBack.ParkedDatabase,
        });
        run.Timeline.Phase = "completed";
        run.Publish();
        return new RestoreResult(RestoreOutcome.RolledBack, request.Tenant, stamp, rolledBack.CanonicalDatabase, rolledBack.ParkedDatabase, null,
            $"rolled back run {request.RestoreRunId}; the restored copy is parked as {rolledBack.ParkedDatabase} until an operator drops it");
    }
}
