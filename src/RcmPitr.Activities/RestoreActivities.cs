using System.Runtime.Versioning;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Orchestration;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Activities;

/// <summary>
/// Every activity of the restore workflow (names in <see cref="ActivityNames"/>). Each is idempotent because
/// the operation behind it is; none holds state between calls.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RestoreActivities(
    TenantResolver resolver,
    TenantStatusChanger status,
    IServerProvisioner provisioner,
    RestoredServers restoredServers,
    RestorePreflight preflight,
    TenantDumper dumper,
    RestoreDatabaseLoader loader,
    TenantTransfer transfer,
    ParityProbe parity,
    SwapCutover swap,
    FlipRefCutover flip,
    TenantCacheInvalidator cache,
    AuditWriter audit,
    DerivedDatabaseDropper dropper,
    INotifier notifier,
    IOrchestrationStarter orchestrations,
    IOrchestrationTerminator terminator,
    StepStartLedger starts)
{
#pragma warning disable CS1591 // Each method is the activity of the same name; ActivityNames documents them.
    public Task<TenantInfo> ResolveTenant(ResolveTenantInput input, CancellationToken ct) => resolver.ResolveAsync(input, ct);

    public Task<FreezeTenantResult> FreezeTenant(FreezeTenantInput input, CancellationToken ct) => status.FreezeAsync(input, ct);

    public Task<UnfreezeTenantResult> UnfreezeTenant(UnfreezeTenantInput input, CancellationToken ct) => status.UnfreezeAsync(input, ct);

    public Task<ConfirmFreezeResult> ConfirmFreeze(ConfirmFreezeInput input, CancellationToken ct) => status.ConfirmFreezeAsync(input, ct);


    public Task<ServerStatus> GetServerState(GetServerStateInput input, CancellationToken ct) => provisioner.GetStateAsync(input, ct);


    public Task<AcquireServerResult> AcquireServer(AcquireServerInput input, CancellationToken ct) => restoredServers.AcquireAsync(input, ct);

    public Task<ReleaseServerResult> ReleaseServer(ReleaseServerInput input, CancellationToken ct) => restoredServers.ReleaseAsync(input, ct);

    public Task<PreflightResult> Preflight(PreflightInput input, CancellationToken ct) => preflight.CheckAsync(input, ct);

    // The long steps: a host that aborts one (Azure Functions at functionTimeout) and starts it again is bounded by the ledger.
    public Task<DumpTenantResult> DumpTenant(DumpTenantInput input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        return starts.RunAsync(input.RunId, ActivityNames.DumpTenant, token => dumper.DumpAsync(input, token), ct);
    }

    public Task<DeleteDumpResult> DeleteDump(DeleteDumpInput input, CancellationToken ct) => dumper.DeleteAsync(input, ct);

    public Task<RestoreDatabaseResult> RestoreDatabase(RestoreDatabaseInput input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        return starts.RunAsync(input.RunId, ActivityNames.RestoreDatabase, token => loader.LoadAsync(input, token), ct);
    }

    public Task<MoveTenantResult> MoveTenant(MoveTenantInput input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        return starts.RunAsync(input.RunId, ActivityNames.MoveTenant, token => transfer.MoveAsync(input, token), ct);
    }

    public Task<ParityReport> ParityProbe(ParityProbeInput input, CancellationToken ct) => parity.ProbeAsync(input, ct);

    public Task<SwapCutoverResult> SwapCutover(SwapCutoverInput input, CancellationToken ct) => swap.CutOverAsync(input, ct);

    public Task<FlipRefCutoverResult> FlipRefCutover(FlipRefCutoverInput input, CancellationToken ct) => flip.FlipAsync(input, ct);

    public Task<RollbackSwapResult> RollbackSwap(RollbackSwapInput input, CancellationToken ct) => swap.RollBackAsync(input, ct);

    public Task<RollbackFlipResult> RollbackFlip(RollbackFlipInput input, CancellationToken ct) => flip.RollBackAsync(input, ct);

    public Task<VerifyCutoverResult> VerifyCutover(VerifyCutoverInput input, CancellationToken ct) => parity.VerifyCutoverAsync(input, ct);

    public async Task<bool> InvalidateTenantCache(InvalidateTenantCacheInput input, CancellationToken ct)
    {
        await cache.InvalidateAsync(input, ct);
        return true;
    }

    public Task<WriteAuditResult> WriteAudit(WriteAuditInput input, CancellationToken ct) => audit.WriteAsync(input, ct);

    public async Task<bool> Notify(NotifyInput input, CancellationToken ct)
    {
        await notifier.NotifyAsync(input, ct);
        return true;
    }

    public Task<DropDerivedDatabaseResult> DropDerivedDatabase(DropDerivedDatabaseInput input, CancellationToken ct) => dropper.DropAsync(input, ct);

    public Task<bool> ScheduleRetentionDrop(ScheduleRetentionDropInput input, CancellationToken ct) => ScheduleRetentionDrop(orchestrations, input, ct);

    public Task<bool> CancelRetentionDrop(CancelRetentionDropInput input, CancellationToken ct) => CancelRetentionDrop(terminator, input, ct);

    /// <summary>Stops a pending retention timer (absent or ended: nothing to stop).</summary>
    public static Task<bool> CancelRetentionDrop(IOrchestrationTerminator terminator, CancelRetentionDropInput input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(terminator);
        ArgumentNullException.ThrowIfNull(input);
        return terminator.TerminateIfActiveAsync(RunIds.Require(input.InstanceId), input.Reason, ct);
    }

    /// <summary>Starts the retention timer instance of a run (its id is deterministic, so a retry finds it).</summary>
    public static Task<bool> ScheduleRetentionDrop(IOrchestrationStarter orchestrations, ScheduleRetentionDropInput input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(orchestrations);
        ArgumentNullException.ThrowIfNull(input);
        return orchestrations.StartIfAbsentAsync(
            RetentionDropOrchestrator.Name,
            RetentionDropOrchestrator.InstanceIdFor(input.RunId, input.Kind),
            new RetentionDropRequest(input.RunId, input.Live, input.Tenant, input.Stamp, input.DropAfterUtc, input.Kind, input.LiveDatabase),
            ct);
    }
#pragma warning restore CS1591
}
