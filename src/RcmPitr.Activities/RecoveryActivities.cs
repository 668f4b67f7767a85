using System.Runtime.Versioning;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Telemetry;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Recoveries;

namespace RcmPitr.Activities;

/// <summary>
/// The activities only a server recovery (region loss) calls, names in <see cref="RecoveryActivityNames"/>; the recovery also
/// calls the restore activities' freeze, unfreeze, cache invalidation, verify and audit. Each is idempotent because the operation
/// behind it is. The geo-restore is the host's provisioner when it can geo-restore (Azure, the local WAL provisioner); any other
/// provisioner refuses it.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RecoveryActivities(ServerRecovery recovery, IServerProvisioner provisioner)
{
#pragma warning disable CS1591 // Each method is the activity of the same name; RecoveryActivityNames documents them.
    public Task<ProbeServerResult> ProbeServer(ProbeServerInput input, CancellationToken ct) =>
        Step(RecoveryActivityNames.ProbeServer, StepSubject.None, ct, () => recovery.ProbeAsync(input, ct));

    public Task<ListServerTenantsResult> ListServerTenants(ListServerTenantsInput input, CancellationToken ct) =>
        Step(RecoveryActivityNames.ListServerTenants, StepSubject.None, ct, () => recovery.ListTenantsAsync(input, ct));

    public Task<GeoRestoreResult> StartGeoRestore(GeoRestoreInput input, CancellationToken ct) =>
        Step(RecoveryActivityNames.StartGeoRestore, new(input.RunId), ct, () => GeoRestorer.StartGeoRestoreAsync(input, ct));

    public Task<GeoRestoreState> GetGeoRestoreState(GetServerStateInput input, CancellationToken ct) =>
        Step(RecoveryActivityNames.GetGeoRestoreState, StepSubject.None, ct, () => GeoRestorer.GetGeoRestoreStateAsync(input, ct));

    public Task<CheckRecoveredTenantResult> CheckRecoveredTenant(CheckRecoveredTenantInput input, CancellationToken ct) =>
        Step(RecoveryActivityNames.CheckRecoveredTenant, StepSubject.None, ct, () => recovery.CheckAsync(input, ct));

    public Task<RepointTenantResult> RepointTenant(RepointTenantInput input, CancellationToken ct) =>
        Step(RecoveryActivityNames.RepointTenant, new(input.RunId, input.Tenant), ct, () => recovery.RepointAsync(input, ct));
#pragma warning restore CS1591

    private IGeoRestorer GeoRestorer => provisioner as IGeoRestorer
        ?? throw new InvalidRestoreInputException("provisioner", $"the host's provisioner ({provisioner.GetType().Name}) cannot geo-restore a lost server");

    private static Task<T> Step<T>(string name, StepSubject subject, CancellationToken ct, Func<Task<T>> run) =>
        StepTelemetry.RunAsync(name, subject, run, null, ct);
}
