using RcmPitr.Activities;
using RcmPitr.Api.Batches;
using RcmPitr.Engine.Hosting;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Drills;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Host.Composition;

/// <summary>Registers every orchestrator and activity with the embedded engine, by the names the workflow uses.</summary>
public static class DurableRegistration
{
    /// <summary>
    /// The registry for <paramref name="a"/>; <paramref name="batches"/> gives the batch activities when one runs (they reach
    /// the engine's own client, which exists only once the engine does).
    /// </summary>
    public static DurableRegistry Create(RestoreActivities a, Func<BatchActivities>? batches = null, Func<RcmPitr.Api.Drills.DrillRecorder>? drills = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        var registry = new DurableRegistry()
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
        if (batches is not null)
        {
            registry
                .AddOrchestrator<RestoreBatchRequest, RestoreBatchResult>(RestoreBatchOrchestrator.Name, new RestoreBatchOrchestrator().RunAsync)
                .AddActivity<StartBatchMemberInput, StartBatchMemberResult>(ActivityNames.StartBatchMember, (input, ct) => batches().StartMember(input, ct))
                .AddActivity<ReadBatchMembersInput, IReadOnlyList<BatchMemberState>>(ActivityNames.ReadBatchMembers, (input, ct) => batches().ReadMembers(input, ct))
                .AddActivity<CancelBatchMembersInput, int>(ActivityNames.CancelBatchMembers, (input, ct) => batches().CancelMembers(input, ct));
        }

        if (drills is not null)
        {
            registry.AddActivity<RecordDrillInput, RecordDrillResult>(ActivityNames.RecordDrill, (input, ct) => drills().RecordAsync(input, ct));
        }

        return registry;
    }

    /// <summary>Adds the server recovery (region loss): its orchestrator and the activities only it calls.</summary>
    public static DurableRegistry AddRecoveries(this DurableRegistry registry, RecoveryActivities r)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(r);
        return registry
            .AddOrchestrator<RcmPitr.Workflow.Recoveries.RecoverServerRequest, RcmPitr.Workflow.Recoveries.RecoverServerResult>(RcmPitr.Workflow.Recoveries.RecoverServerOrchestrator.Name, new RcmPitr.Workflow.Recoveries.RecoverServerOrchestrator().RunAsync)
            .AddActivity<ProbeServerInput, ProbeServerResult>(RcmPitr.Workflow.Recoveries.RecoveryActivityNames.ProbeServer, r.ProbeServer)
            .AddActivity<ListServerTenantsInput, ListServerTenantsResult>(RcmPitr.Workflow.Recoveries.RecoveryActivityNames.ListServerTenants, r.ListServerTenants)
            .AddActivity<GeoRestoreInput, GeoRestoreResult>(RcmPitr.Workflow.Recoveries.RecoveryActivityNames.StartGeoRestore, r.StartGeoRestore)
            .AddActivity<GetServerStateInput, GeoRestoreState>(RcmPitr.Workflow.Recoveries.RecoveryActivityNames.GetGeoRestoreState, r.GetGeoRestoreState)
            .AddActivity<CheckRecoveredTenantInput, CheckRecoveredTenantResult>(RcmPitr.Workflow.Recoveries.RecoveryActivityNames.CheckRecoveredTenant, r.CheckRecoveredTenant)
            .AddActivity<RepointTenantInput, RepointTenantResult>(RcmPitr.Workflow.Recoveries.RecoveryActivityNames.RepointTenant, r.RepointTenant);
    }
}
