using System.Runtime.Versioning;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Core;
using Azure.Core.Serialization;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RcmPitr.Activities;
using RcmPitr.Activities.Notifications;
using RcmPitr.Api;
using RcmPitr.Azure.Arm;
using RcmPitr.Azure.KeyVault;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Orchestration;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Composition;

/// <summary>
/// The Functions app's object graph: one credential (managed identity), one <see cref="SecretClient"/>, one
/// ArmClient, one control-plane data source — and the same operations and activities as the embedded host.
/// Every setting is in local.settings.sample.json.
/// </summary>
[SupportedOSPlatform("linux")]
public static class FunctionsServices
{
    /// <summary>Adds everything the triggers need.</summary>
    public static IServiceCollection AddRcmPitrFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AppServiceAuthenticationCheck.Ensure(configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Bind<AuthOptions>(configuration, "Auth"));
        services.AddSingleton(Bind<ApiLinkOptions>(configuration, "Links"));
        services.AddSingleton(sp => new StartRateLimiter(Bind<StartRateLimitOptions>(configuration, "RateLimit"), sp.GetRequiredService<TimeProvider>()));
        // Durable (isolated) serializes inputs, outputs and custom status with the worker's serializer: camelCase and
        // enums as strings, so the status API answers with the same JSON as the embedded host.
        services.Configure<WorkerOptions>(options => options.Serializer = new JsonObjectSerializer(Json));
        services.AddSingleton(Bind<AzureArmOptions>(configuration, "AzureArm"));
        services.AddSingleton(Bind<DataMoverOptions>(configuration, "DataMover"));
        services.AddSingleton(Bind<SmokeProbeOptions>(configuration, "SmokeProbe"));
        services.AddSingleton(Bind<RcmPitr.Postgres.Changes.ChangeReportOptions>(configuration, RcmPitr.Postgres.Changes.ChangeReportOptions.Section));
        services.AddSingleton(Bind<PgConnectionOptions>(configuration, "PgConnection"));
        services.AddSingleton(Bind<RcmPitr.Api.Drills.DrillScheduleOptions>(configuration, "DryRun"));
        services.AddSingleton(Bind<RcmPitr.Workflow.Drills.DrillOptions>(configuration, RcmPitr.Workflow.Drills.DrillOptions.Section));
        services.AddSingleton<DrillResultStore>();
        services.AddSingleton(Bind<RestoreSettings>(configuration, "Restore"));
        services.AddSingleton(Bind<RcmPitr.Workflow.Batches.BatchSettings>(configuration, "Batch"));
        services.AddSingleton<TokenCredential>(new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = configuration["AZURE_CLIENT_ID"] }));
        services.AddSingleton(sp => new SecretClient(
            new Uri(configuration["KeyVault:Uri"] ?? throw new InvalidOperationException("KeyVault__Uri is not set.")), sp.GetRequiredService<TokenCredential>()));
        services.AddSingleton<ISecretStore>(sp => new KeyVaultSecretStore(sp.GetRequiredService<SecretClient>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => ArmClientFactory.Create(sp.GetRequiredService<TokenCredential>(), sp.GetRequiredService<AzureArmOptions>()));
        services.AddSingleton<IServerProvisioner, AzureFlexibleServerProvisioner>();
        services.AddSingleton(sp => new ControlPlaneDatabase(SecretBackedDataSource.Create(
            Bind<DatabaseEndpoint>(configuration, "ControlPlane"), sp.GetRequiredService<ISecretStore>(), sp.GetRequiredService<PgConnectionOptions>())));
        services.AddSingleton(WithLinks(Bind<NotificationOptions>(configuration, "Notifications"), configuration));
        services.AddSingleton<INotifier, OutboxNotifier>();
        services.AddSingleton<NotificationDispatcher>();
        // A hosted service, as on the embedded host: the app runs on an Elastic Premium plan, whose always-ready instance
        // keeps it polling (a timer trigger would add nothing but a minute's granularity); scaled-out instances share the
        // outbox safely because each row is claimed with FOR UPDATE SKIP LOCKED.
        services.AddHostedService<NotificationDispatchService>();
        services.AddSingleton<DecisionLog>();
        services.AddSingleton<TenantRunLock>();
        services.AddHostedService<OwnSchemaStartup>();
        services.AddSingleton<BindingOnlyStarter>();
        services.AddSingleton<IOrchestrationStarter>(sp => sp.GetRequiredService<BindingOnlyStarter>());
        services.AddSingleton<IOrchestrationTerminator>(sp => sp.GetRequiredService<BindingOnlyStarter>());
        services.AddRestoreActivities();
        return services;
    }

    /// <summary>The JSON of every payload Durable stores.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private static T Bind<T>(IConfiguration configuration, string section)
        where T : new()
    {
        var value = new T();
        configuration.GetSection(section).Bind(value);
        return value;
    }

    /// <summary>
    /// In Functions an activity reaches Durable's client only through its <c>[DurableClient]</c> binding, so the
    /// activities that start or stop an orchestration (ScheduleRetentionDrop, CancelRetentionDrop) use that binding directly.
    /// </summary>
    private sealed class BindingOnlyStarter : IOrchestrationStarter, IOrchestrationTerminator
    {
        public Task<bool> StartIfAbsentAsync(string orchestratorName, string instanceId, object input, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("In Azure Functions orchestrations are started through the DurableClient binding.");

        public Task<bool> TerminateIfActiveAsync(string instanceId, string reason, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("In Azure Functions orchestrations are stopped through the DurableClient binding.");
    }

    /// <summary>
    /// The base of the links in messages: <c>Notifications:PublicBaseUrl</c>, else <c>Links:PublicBaseUrl</c>, else the app's
    /// default host name (<c>WEBSITE_HOSTNAME</c>, set by App Service) over HTTPS.
    /// </summary>
    internal static NotificationOptions WithLinks(NotificationOptions notifications, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(notifications.PublicBaseUrl))
        {
            notifications.PublicBaseUrl = configuration["Links:PublicBaseUrl"] is { Length: > 0 } links ? links
                : configuration["WEBSITE_HOSTNAME"] is { Length: > 0 } host ? $"https://{host}"
                : null;
        }

        return notifications;
    }
}
