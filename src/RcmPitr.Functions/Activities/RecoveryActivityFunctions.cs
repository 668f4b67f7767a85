using System.Runtime.Versioning;
using Microsoft.Azure.Functions.Worker;
using RcmPitr.Activities;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Recoveries;

namespace RcmPitr.Functions.Activities;

/// <summary>
/// The activity triggers only a server recovery calls (names from <see cref="RecoveryActivityNames"/>), each delegating to the same
/// <see cref="RecoveryActivities"/> the embedded host runs; the geo-restore is <see cref="Azure.Arm.AzureFlexibleServerProvisioner"/>'s.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RecoveryActivityFunctions(RecoveryActivities activities)
{
#pragma warning disable CS1591 // Each trigger is the activity of the same name.
    [Function(RecoveryActivityNames.ProbeServer)]
    public Task<ProbeServerResult> ProbeServer([ActivityTrigger] ProbeServerInput input, CancellationToken cancellationToken) => activities.ProbeServer(input, cancellationToken);

    [Function(RecoveryActivityNames.ListServerTenants)]
    public Task<ListServerTenantsResult> ListServerTenants([ActivityTrigger] ListServerTenantsInput input, CancellationToken cancellationToken) => activities.ListServerTenants(input, cancellationToken);

    [Function(RecoveryActivityNames.StartGeoRestore)]
    public Task<GeoRestoreResult> StartGeoRestore([ActivityTrigger] GeoRestoreInput input, CancellationToken cancellationToken) => activities.StartGeoRestore(input, cancellationToken);

    [Function(RecoveryActivityNames.GetGeoRestoreState)]
    public Task<GeoRestoreState> GetGeoRestoreState([ActivityTrigger] GetServerStateInput input, CancellationToken cancellationToken) => activities.GetGeoRestoreState(input, cancellationToken);

    [Function(RecoveryActivityNames.CheckRecoveredTenant)]
    public Task<CheckRecoveredTenantResult> CheckRecoveredTenant([ActivityTrigger] CheckRecoveredTenantInput input, CancellationToken cancellationToken) => activities.CheckRecoveredTenant(input, cancellationToken);

    [Function(RecoveryActivityNames.RepointTenant)]
    public Task<RepointTenantResult> RepointTenant([ActivityTrigger] RepointTenantInput input, CancellationToken cancellationToken) => activities.RepointTenant(input, cancellationToken);
#pragma warning restore CS1591
}
