using System.Runtime.Versioning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RcmPitr.Postgres.Changes;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Postgres.Tools;

namespace RcmPitr.Activities;

/// <summary>
/// Registers every operation and <see cref="RestoreActivities"/> as singletons. The host adds what differs per host:
/// <see cref="ISecretStore"/>, the control-plane database, the provisioner, the notifier, the orchestration starter,
/// <see cref="DataMoverOptions"/>, <see cref="PgConnectionOptions"/> and a <see cref="TimeProvider"/>.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ActivityServices
{
    /// <summary>Adds the operations and the activities.</summary>
    public static IServiceCollection AddRestoreActivities(this IServiceCollection services)
    {
        services.AddSingleton<IProcessRunner, ProcessRunner>();
        services.AddSingleton(new PgToolOptions());
        services.AddSingleton<PgToolLocator>();
        services.AddSingleton<PgConnector>();
        services.AddSingleton<TenantResolver>();
        services.AddSingleton<TenantStatusChanger>();
        services.AddSingleton<RestorePreflight>();
        services.AddSingleton<TenantDumper>();
        services.AddSingleton<RestoreDatabaseLoader>();
        services.AddSingleton<TenantMover>();
        services.AddSingleton<TransferProgressStore>();
        services.AddSingleton<TenantTransfer>();
        // A host that configures the smoke probe registers its options (before or after this call); none: no probe.
        services.TryAddSingleton(new SmokeProbeOptions());
        services.AddSingleton<SmokeProbe>();
        services.AddSingleton<ParityProbe>();
        services.AddSingleton<ParityReportStore>();
        // A host that configures the change report registers its options (section Changes); none: the defaults.
        services.TryAddSingleton(new ChangeReportOptions());
        services.AddSingleton<TenantChangeComparer>();
        services.AddSingleton<ChangeReportStore>();
        services.AddSingleton<ChangeReporter>();
        services.AddSingleton<SwapCutover>();
        services.AddSingleton<FlipRefCutover>();
        services.AddSingleton<TenantCacheInvalidator>();
        services.AddSingleton<AuditWriter>();
        services.AddSingleton<DerivedDatabaseDropper>();
        services.AddSingleton<RestoredServers>();
        services.AddSingleton<StepStartLedger>();
        services.AddSingleton<NotificationOutbox>();
        services.AddSingleton<RestoreActivities>();
        services.AddSingleton<ServerRecovery>();
        services.AddSingleton<RecoveryActivities>();
        return services;
    }
}
