using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using RcmPitr.Activities;
using RcmPitr.Activities.Notifications;
using RcmPitr.Engine.Hosting;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Host.Composition;

/// <summary>The embedded host's object graph: singletons for data sources, the engine and every operation.</summary>
public static class HostServices
{
    /// <summary>Adds everything the host needs.</summary>
    public static IServiceCollection AddRcmPitr(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<RcmPitrOptions>>().Value);
        services.AddSingleton<ISecretStore>(sp => new LocalSecretStore(sp.GetRequiredService<RcmPitrOptions>().SecretsFile));
        services.AddRestoreActivities();
        services.AddSingleton(sp => sp.GetRequiredService<RcmPitrOptions>().DataMover);
        services.AddSingleton(sp => sp.GetRequiredService<RcmPitrOptions>().SmokeProbe);
        services.AddSingleton(sp => sp.GetRequiredService<RcmPitrOptions>().Changes);
        services.AddSingleton(sp => sp.GetRequiredService<RcmPitrOptions>().Connections);
        services.AddSingleton(sp => new ControlPlaneDatabase(DataSource(sp, sp.GetRequiredService<RcmPitrOptions>().ControlPlane)));
        services.AddSingleton(sp => new StateDatabase(DataSource(sp, sp.GetRequiredService<RcmPitrOptions>().StateDatabase)));
        services.AddSingleton<IServerProvisioner>(sp => CreateProvisioner(sp, sp.GetRequiredService<RcmPitrOptions>().Provisioner));
        services.AddHostedService<LocalBackupService>();
        services.AddSingleton(sp => WithLinks(sp.GetRequiredService<RcmPitrOptions>()));
        services.AddSingleton<INotifier, OutboxNotifier>();
        services.AddSingleton<NotificationDispatcher>();
        services.AddHostedService<NotificationDispatchService>();
        services.AddSingleton<EngineClientHolder>();
        services.AddSingleton<IOrchestrationStarter>(sp => sp.GetRequiredService<EngineClientHolder>());
        services.AddSingleton<IOrchestrationTerminator>(sp => sp.GetRequiredService<EngineClientHolder>());
        services.AddSingleton(sp => new DurableEngine(
            sp.GetRequiredService<StateDatabase>().DataSource,
            DurableRegistration.Create(
                sp.GetRequiredService<RestoreActivities>(), () => sp.GetRequiredService<RcmPitr.Api.Batches.BatchActivities>(), () => sp.GetRequiredService<RcmPitr.Api.Drills.DrillRecorder>())
                .AddRecoveries(sp.GetRequiredService<RecoveryActivities>()),
            sp.GetRequiredService<RcmPitrOptions>().Engine,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => sp.GetRequiredService<DurableEngine>().Client);
        services.AddSingleton<RcmPitr.Api.IRestoreRuns, RcmPitr.Host.Api.EngineRestoreRuns>();
        services.AddSingleton<DecisionLog>();
        services.AddSingleton(sp => new RcmPitr.Api.RestoreApiHandlers(
            sp.GetRequiredService<RcmPitr.Api.IRestoreRuns>(), sp.GetRequiredService<TenantResolver>(), sp.GetRequiredService<IServerProvisioner>(),
            sp.GetRequiredService<RcmPitrOptions>().Restore, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<DecisionLog>(),
            sp.GetRequiredService<RestorePreflight>(), sp.GetRequiredService<TransferProgressStore>(), sp.GetRequiredService<RcmPitrOptions>().Links,
            sp.GetRequiredService<ParityReportStore>(), sp.GetRequiredService<ChangeReportStore>()));
        services.AddSingleton(sp => new RcmPitr.Api.Batches.BatchActivities(sp.GetRequiredService<RcmPitr.Api.IRestoreRuns>()));
        services.AddSingleton(sp => new RcmPitr.Api.Batches.RestoreBatchHandlers(
            sp.GetRequiredService<RcmPitr.Api.IRestoreRuns>(), sp.GetRequiredService<RcmPitr.Api.RestoreApiHandlers>(), sp.GetRequiredService<TenantResolver>(),
            sp.GetRequiredService<RcmPitrOptions>().Restore, sp.GetRequiredService<RcmPitrOptions>().Batch, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<RcmPitrOptions>().Links));
        services.AddSingleton<DrillResultStore>();
        services.AddSingleton(sp => new RcmPitr.Api.Drills.DrillRecorder(
            sp.GetRequiredService<RcmPitr.Api.IRestoreRuns>(), sp.GetRequiredService<DrillResultStore>(), sp.GetRequiredService<RcmPitrOptions>().Drills,
            sp.GetRequiredService<ParityReportStore>(), sp.GetRequiredService<TransferProgressStore>()));
        services.AddSingleton(sp => new RcmPitr.Api.Drills.DrillStarter(
            sp.GetRequiredService<RcmPitr.Api.IRestoreRuns>(), sp.GetRequiredService<RcmPitr.Api.RestoreApiHandlers>(), sp.GetRequiredService<TenantResolver>(),
            sp.GetRequiredService<RcmPitrOptions>().Restore, sp.GetRequiredService<RcmPitrOptions>().Batch, sp.GetRequiredService<RcmPitrOptions>().DryRun,
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new RcmPitr.Api.Drills.DrillHandlers(
            sp.GetRequiredService<RcmPitr.Api.IRestoreRuns>(), sp.GetRequiredService<RcmPitr.Api.Drills.DrillStarter>(), sp.GetRequiredService<DrillResultStore>(),
            sp.GetRequiredService<RcmPitrOptions>().Links));
        services.AddSingleton(sp => new RcmPitr.Api.Recoveries.ServerRecoveryHandlers(
            sp.GetRequiredService<RcmPitr.Api.IRestoreRuns>(), sp.GetRequiredService<ServerRecovery>(), sp.GetRequiredService<RcmPitrOptions>().Restore,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<RcmPitrOptions>().Links));
        services.AddHostedService<EngineService>();
        services.AddHostedService<RcmPitr.Api.OwnSchemaStartup>();
        return services;
    }

    private static NpgsqlDataSource DataSource(IServiceProvider services, DatabaseEndpoint endpoint) =>
        SecretBackedDataSource.Create(endpoint, services.GetRequiredService<ISecretStore>(), services.GetRequiredService<PgConnectionOptions>());

    private static IServerProvisioner CreateProvisioner(IServiceProvider services, ProvisionerOptions options) => options.Kind switch
    {
        "LocalWal" => LocalEnvironmentOf(services, options).Provisioner,
        "PreRestored" => new PreRestoredServerProvisioner(
            options.Server ?? throw new InvalidOperationException("RcmPitr:Provisioner:Server is required for the PreRestored provisioner."),
            options.EarliestRestoreTime,
            options.LiveStorage),
        _ => throw new InvalidOperationException($"Unknown provisioner kind '{options.Kind}'."),
    };

    /// <summary>The local environment a <c>LocalWal</c> provisioner restores.</summary>
    public static Local.LocalEnvironment LocalEnvironmentOf(IServiceProvider services, ProvisionerOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        return new Local.LocalEnvironment(new Local.LocalLayout(options.LocalHome), services.GetRequiredService<IProcessRunner>(), services.GetRequiredService<TimeProvider>());
    }

    /// <summary>The engine's state database (kept apart from the control plane's type for DI).</summary>
    public sealed record StateDatabase(NpgsqlDataSource DataSource);

    /// <summary>
    /// Breaks the construction cycle engine → activities → starter → engine: activities get this holder, which
    /// reaches the engine's client only when an activity actually starts an instance.
    /// </summary>
    public sealed class EngineClientHolder(IServiceProvider services) : IOrchestrationStarter, IOrchestrationTerminator
    {
        /// <inheritdoc />
        public Task<bool> StartIfAbsentAsync(string orchestratorName, string instanceId, object input, CancellationToken cancellationToken) =>
            services.GetRequiredService<DurableEngine>().Client.StartIfAbsentAsync(orchestratorName, instanceId, input, cancellationToken);

        /// <inheritdoc />
        public async Task<bool> TerminateIfActiveAsync(string instanceId, string reason, CancellationToken cancellationToken)
        {
            try
            {
                return await services.GetRequiredService<DurableEngine>().Client.TerminateAsync(instanceId, reason, cancellationToken);
            }
            catch (Engine.Storage.InstanceNotFoundException)
            {
                return false;
            }
        }
    }

    private sealed class EngineService(DurableEngine engine, ControlPlaneDatabase master, RcmPitrOptions options) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            if (options.MigrateControlPlane)
            {
                await master.MigrateAsync(cancellationToken);
            }

            await engine.StartAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => engine.StopAsync();
    }

    /// <summary>
    /// The notification options with the base of the links in messages: their own setting, else <c>RcmPitr:Links:PublicBaseUrl</c>;
    /// else, once the host listens, its first address that names a host (<see cref="NamedAddress"/>).
    /// </summary>
    internal static NotificationOptions WithLinks(RcmPitrOptions options)
    {
        var notifications = options.Notifications;
        if (string.IsNullOrWhiteSpace(notifications.PublicBaseUrl) && !string.IsNullOrWhiteSpace(options.Links.PublicBaseUrl))
        {
            notifications.PublicBaseUrl = options.Links.PublicBaseUrl;
        }

        return notifications;
    }

    /// <summary>
    /// The address messages link to when none is configured: the first bound address that names a host a reader could open
    /// (a wildcard address does not); null when there is none.
    /// </summary>
    internal static string? NamedAddress(IEnumerable<string> addresses) =>
        addresses.FirstOrDefault(a => Uri.TryCreate(a, UriKind.Absolute, out var uri) && uri.Port > 0 && uri.Host is not ("*" or "+" or "0.0.0.0" or "[::]" or "::"));
}
