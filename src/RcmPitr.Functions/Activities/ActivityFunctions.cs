using System.Runtime.Versioning;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using RcmPitr.Activities;
using RcmPitr.Api.Batches;
using RcmPitr.Functions.Http;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Telemetry;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Activities;

/// <summary>
/// One activity trigger per workflow activity (names from <see cref="ActivityNames"/>), each delegating to the
/// same <see cref="RestoreActivities"/> the embedded host runs.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ActivityFunctions(
    RestoreActivities activities, TenantRunLock? tenantRuns = null, DrillResultStore? drillResults = null, RcmPitr.Workflow.Drills.DrillOptions? drillOptions = null,
    ParityReportStore? parityReports = null, TransferProgressStore? progress = null)
{
#pragma warning disable CS1591 // Each trigger is the activity of the same name.
    [Function(ActivityNames.ResolveTenant)]
    public Task<TenantInfo> ResolveTenant([ActivityTrigger] ResolveTenantInput input, CancellationToken cancellationToken) => activities.ResolveTenant(input, cancellationToken);

    [Function(ActivityNames.FreezeTenant)]
    public Task<FreezeTenantResult> FreezeTenant([ActivityTrigger] FreezeTenantInput input, CancellationToken cancellationToken) => activities.FreezeTenant(input, cancellationToken);

    [Function(ActivityNames.UnfreezeTenant)]
    public Task<UnfreezeTenantResult> UnfreezeTenant([ActivityTrigger] UnfreezeTenantInput input, CancellationToken cancellationToken) => activities.UnfreezeTenant(input, cancellationToken);

    [Function(ActivityNames.GetServerState)]
    public Task<ServerStatus> GetServerState([ActivityTrigger] GetServerStateInput input, CancellationToken cancellationToken) => activities.GetServerState(input, cancellationToken);

    [Function(ActivityNames.AcquireServer)]
    public Task<AcquireServerResult> AcquireServer([ActivityTrigger] AcquireServerInput input, CancellationToken cancellationToken) => activities.AcquireServer(input, cancellationToken);

    [Function(ActivityNames.ReleaseServer)]
    public Task<ReleaseServerResult> ReleaseServer([ActivityTrigger] ReleaseServerInput input, CancellationToken cancellationToken) => activities.ReleaseServer(input, cancellationToken);

    [Function(ActivityNames.Preflight)]
    public Task<PreflightResult> Preflight([ActivityTrigger] PreflightInput input, CancellationToken cancellationToken) => activities.Preflight(input, cancellationToken);

    [Function(ActivityNames.DumpTenant)]
    public Task<DumpTenantResult> DumpTenant([ActivityTrigger] DumpTenantInput input, CancellationToken cancellationToken) => activities.DumpTenant(input, cancellationToken);

    [Function(ActivityNames.DeleteDump)]
    public Task<DeleteDumpResult> DeleteDump([ActivityTrigger] DeleteDumpInput input, CancellationToken cancellationToken) => activities.DeleteDump(input, cancellationToken);

    [Function(ActivityNames.RestoreDatabase)]
    public Task<RestoreDatabaseResult> RestoreDatabase([ActivityTrigger] RestoreDatabaseInput input, CancellationToken cancellationToken) => activities.RestoreDatabase(input, cancellationToken);

    [Function(ActivityNames.MoveTenant)]
    public Task<MoveTenantResult> MoveTenant([ActivityTrigger] MoveTenantInput input, CancellationToken cancellationToken) => activities.MoveTenant(input, cancellationToken);

    [Function(ActivityNames.ParityProbe)]
    public Task<ParityReport> ParityProbe([ActivityTrigger] ParityProbeInput input, CancellationToken cancellationToken) => activities.ParityProbe(input, cancellationToken);

    [Function(ActivityNames.CompareChanges)]
    public Task<ChangeSummary> CompareChanges([ActivityTrigger] CompareChangesInput input, CancellationToken cancellationToken) => activities.CompareChanges(input, cancellationToken);

    [Function(ActivityNames.SwapCutover)]
    public Task<SwapCutoverResult> SwapCutover([ActivityTrigger] SwapCutoverInput input, CancellationToken cancellationToken) => activities.SwapCutover(input, cancellationToken);

    [Function(ActivityNames.FlipRefCutover)]
    public Task<FlipRefCutoverResult> FlipRefCutover([ActivityTrigger] FlipRefCutoverInput input, CancellationToken cancellationToken) => activities.FlipRefCutover(input, cancellationToken);

    [Function(ActivityNames.RollbackSwap)]
    public Task<RollbackSwapResult> RollbackSwap([ActivityTrigger] RollbackSwapInput input, CancellationToken cancellationToken) => activities.RollbackSwap(input, cancellationToken);

    [Function(ActivityNames.VerifyCutover)]
    public Task<VerifyCutoverResult> VerifyCutover([ActivityTrigger] VerifyCutoverInput input, CancellationToken cancellationToken) => activities.VerifyCutover(input, cancellationToken);

    [Function(ActivityNames.InvalidateTenantCache)]
    public Task<bool> InvalidateTenantCache([ActivityTrigger] InvalidateTenantCacheInput input, CancellationToken cancellationToken) => activities.InvalidateTenantCache(input, cancellationToken);

    /// <summary>The audit step; Durable's client tells when the run was created, for the run's duration.</summary>
    [Function(ActivityNames.WriteAudit)]
    public async Task<WriteAuditResult> WriteAudit([ActivityTrigger] WriteAuditInput input, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(client);
        var instanceId = StepInvocation.Current?.InstanceId ?? input.RunId;
        using (StepInvocation.Begin(new StepInvocation(instanceId, RunCreatedAt: async ct => (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct))?.CreatedAt)))
        {
            return await activities.WriteAudit(input, cancellationToken);
        }
    }

    [Function(ActivityNames.Notify)]
    public Task<bool> Notify([ActivityTrigger] NotifyInput input, CancellationToken cancellationToken) => activities.Notify(input, cancellationToken);

    [Function(ActivityNames.DropDerivedDatabase)]
    public Task<DropDerivedDatabaseResult> DropDerivedDatabase([ActivityTrigger] DropDerivedDatabaseInput input, CancellationToken cancellationToken) => activities.DropDerivedDatabase(input, cancellationToken);

    [Function(ActivityNames.ScheduleRetentionDrop)]
    public Task<bool> ScheduleRetentionDrop([ActivityTrigger] ScheduleRetentionDropInput input, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        RestoreActivities.ScheduleRetentionDrop(new DurableOrchestrationStarter(client), input, cancellationToken);

    [Function(ActivityNames.CancelRetentionDrop)]
    public Task<bool> CancelRetentionDrop([ActivityTrigger] CancelRetentionDropInput input, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        RestoreActivities.CancelRetentionDrop(new DurableOrchestrationStarter(client), input, cancellationToken);

    [Function(ActivityNames.ConfirmFreeze)]
    public Task<ConfirmFreezeResult> ConfirmFreeze([ActivityTrigger] ConfirmFreezeInput input, CancellationToken cancellationToken) => activities.ConfirmFreeze(input, cancellationToken);

    [Function(ActivityNames.RollbackFlip)]
    public Task<RollbackFlipResult> RollbackFlip([ActivityTrigger] RollbackFlipInput input, CancellationToken cancellationToken) => activities.RollbackFlip(input, cancellationToken);

    [Function(ActivityNames.StartBatchMember)]
    public Task<StartBatchMemberResult> StartBatchMember([ActivityTrigger] StartBatchMemberInput input, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        Batch(client).StartMember(input, cancellationToken);

    [Function(ActivityNames.ReadBatchMembers)]
    public Task<IReadOnlyList<BatchMemberState>> ReadBatchMembers([ActivityTrigger] ReadBatchMembersInput input, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        Batch(client).ReadMembers(input, cancellationToken);

    [Function(ActivityNames.CancelBatchMembers)]
    public Task<int> CancelBatchMembers([ActivityTrigger] CancelBatchMembersInput input, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        Batch(client).CancelMembers(input, cancellationToken);

    [Function(ActivityNames.RecordDrill)]
    public Task<RcmPitr.Workflow.Drills.RecordDrillResult> RecordDrill([ActivityTrigger] RcmPitr.Workflow.Drills.RecordDrillInput input, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        new RcmPitr.Api.Drills.DrillRecorder(
            Runs(client),
            drillResults ?? throw new InvalidOperationException("The drill results store (DrillResultStore) is not registered."),
            drillOptions ?? new RcmPitr.Workflow.Drills.DrillOptions(),
            parityReports,
            progress).RecordAsync(input, cancellationToken);
#pragma warning restore CS1591

    // A batch's member runs start under the same one-run-per-tenant claim as runs started through the API.
    private BatchActivities Batch(DurableTaskClient client) => new(Runs(client));

    // The runs as the API sees them, for the batch and drill activities.
    private DurableRestoreRuns Runs(DurableTaskClient client) =>
        new(client, tenantRuns ?? throw new InvalidOperationException("The batch and drill activities need the master's tenant-run claims (TenantRunLock), which are not registered."));
}
