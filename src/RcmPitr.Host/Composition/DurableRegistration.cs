using RcmPitr.Activities;
using RcmPitr.Engine.Hosting;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Host.Composition;

/// <summary>Registers every orchestrator and activity with the embedded engine, by the names the workflow uses.</summary>
public static class DurableRegistration
{
    /// <summary>The registry for <paramref name="a"/>.</summary>
    public static DurableRegistry Create(RestoreActivities a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return new DurableRegistry()
            .AddOrchestrator<RestoreRequest, RestoreResult>(RestoreTenantOrchestrator.Name, new RestoreTenantOrchestrator().RunAsync)
            .AddOrchestrator<RestoreRequest, RestoreResult>(RestoreTenantV2Orchestrator.Name, new RestoreTenantV2Orchestrator().RunAsync)
            .AddOrchestrator<RollbackRequest, RestoreResult>(RollbackOrchestrator.Name, new RollbackOrchestrator().RunAsync)
            .AddOrchestrator<RetentionDropRequest, DropDerivedDatabaseResult>(RetentionDropOrchestrator.Name, new RetentionDropOrchestrator().RunAsync)
            .AddActivity<ResolveTenantInput, TenantInfo>(ActivityNames.ResolveTenant, a.ResolveTenant)
            .AddActivity<FreezeTenantInput, FreezeTenantResult>(ActivityNames.FreezeTenant, a.FreezeTenant)
            .AddActivity<UnfreezeTenantInput, UnfreezeTenantResult>(ActivityNames.UnfreezeTenant, a.UnfreezeTenant)
            .AddActivity<ConfirmFreezeInput, ConfirmFreezeResult>(ActivityNames.ConfirmFreeze, a.ConfirmFreeze)
            .AddActivity<GetServerStateInput, ServerStatus>(ActivityNames.GetServerState, a.GetServerState)
            .AddActivity<AcquireServerInput, AcquireServerResult>(ActivityNames.AcquireServer, a.AcquireServer)
            .AddActivity<ReleaseServerInput, ReleaseServerResult>(ActivityNames.ReleaseServer, a.ReleaseServer)
            .AddActivity<PreflightInput, PreflightResult>(ActivityNames.Preflight, a.Preflight)
            .AddActivity<DumpTenantInput, DumpTenantResult>(ActivityNames.DumpTenant, a.DumpTenant)
            .AddActivity<DeleteDumpInput, DeleteDumpResult>(ActivityNames.DeleteDump, a.DeleteDump)
            .AddActivity<RestoreDatabaseInput, RestoreDatabaseResult>(ActivityNames.RestoreDatabase, a.RestoreDatabase)
            .AddActivity<MoveTenantInput, MoveTenantResult>(ActivityNames.MoveTenant, a.MoveTenant)
            .AddActivity<ParityProbeInput, ParityReport>(ActivityNames.ParityProbe, a.ParityProbe)
            .AddActivity<CompareChangesInput, ChangeSummary>(ActivityNames.CompareChanges, a.CompareChanges)
            .AddActivity<SwapCutoverInput, SwapCutoverResult>(ActivityNames.SwapCutover, a.SwapCutover)
            .AddActivity<FlipRefCutoverInput, FlipRefCutoverResult>(ActivityNames.FlipRefCutover, a.FlipRefCutover)
            .AddActivity<RollbackSwapInput, RollbackSwapResult>(ActivityNames.RollbackSwap, a.RollbackSwap)
            .AddActivity<RollbackFlipInput, RollbackFlipResult>(ActivityNames.RollbackFlip, a.RollbackFlip)
            .AddActivity<VerifyCutoverInput, VerifyCutoverResult>(ActivityNames.VerifyCutover, a.VerifyCutover)
            .AddActivity<InvalidateTenantCacheInput, bool>(ActivityNames.InvalidateTenantCache, a.InvalidateTenantCache)
            .AddActivity<WriteAuditInput, WriteAuditResult>(ActivityNames.WriteAudit, a.WriteAudit)
            .AddActivity<NotifyInput, bool>(ActivityNames.Notify, a.Notify)
            .AddActivity<DropDerivedDatabaseInput, DropDerivedDatabaseResult>(ActivityNames.DropDerivedDatabase, a.DropDerivedDatabase)
            .AddActivity<ScheduleRetentionDropInput, bool>(ActivityNames.ScheduleRetentionDrop, a.ScheduleRetentionDrop)
            .AddActivity<CancelRetentionDropInput, bool>(ActivityNames.CancelRetentionDrop, a.CancelRetentionDrop);
    }
}
