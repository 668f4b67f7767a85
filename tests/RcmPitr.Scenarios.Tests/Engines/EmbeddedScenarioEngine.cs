using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RcmPitr.Engine.Hosting;
using RcmPitr.Scenarios.Tests.Activities;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Scenarios.Tests.Engines;

/// <summary>The embedded engine over a PostgreSQL database of the test's own, with the orchestrators the embedded host registers.</summary>
public sealed class EmbeddedScenarioEngine : ScenarioEngine
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly DurableEngine _engine;

    private EmbeddedScenarioEngine(NpgsqlDataSource dataSource, DurableEngine engine)
    {
        _dataSource = dataSource;
        _engine = engine;
    }

    public static async Task<ScenarioEngine> StartAsync(string connectionString, FakeActivities activities)
    {
        ArgumentNullException.ThrowIfNull(activities);
        // The same registrations as the embedded host's (RcmPitr.Host DurableRegistration).
        var registry = new DurableRegistry()
            .AddOrchestrator<RestoreRequest, RestoreResult>(RestoreTenantOrchestrator.Name, new RestoreTenantOrchestrator().RunAsync)
            .AddOrchestrator<RestoreRequest, RestoreResult>(RestoreTenantV2Orchestrator.Name, new RestoreTenantV2Orchestrator().RunAsync)
            .AddOrchestrator<RollbackRequest, RestoreResult>(RollbackOrchestrator.Name, new RollbackOrchestrator().RunAsync)
            .AddOrchestrator<RetentionDropRequest, DropDerivedDatabaseResult>(RetentionDropOrchestrator.Name, new RetentionDropOrchestrator().RunAsync)
            .AddOrchestrator<RestoreBatchRequest, RestoreBatchResult>(RestoreBatchOrchestrator.Name, new RestoreBatchOrchestrator().RunAsync)
            .AddOrchestrator<Workflow.Recoveries.RecoverServerRequest, Workflow.Recoveries.RecoverServerResult>(Workflow.Recoveries.RecoverServerOrchestrator.Name, new Workflow.Recoveries.RecoverServerOrchestrator().RunAsync);
        activities.RegisterOn(registry);
        var dataSource = NpgsqlDataSource.Create(connectionString);
        // A lease far longer than any held activity: a delivery is never repeated behind a test's back.
        var options = new EngineOptions { PollInterval = TimeSpan.FromMilliseconds(100), ActivityLease = TimeSpan.FromSeconds(60), MaxConcurrentActivities = 2 };
        var engine = new DurableEngine(dataSource, registry, options, TimeProvider.System, NullLoggerFactory.Instance);
        await engine.StartAsync(CancellationToken.None);
        return new EmbeddedScenarioEngine(dataSource, engine);
    }

    public override Task StartAsync(string orchestrator, string instanceId, object input) =>
        _engine.Client.StartAsync(orchestrator, instanceId, input, lockKey: null, CancellationToken.None);

    public override Task RaiseEventAsync(string instanceId, string eventName, object payload) =>
        _engine.Client.RaiseEventAsync(instanceId, eventName, payload, CancellationToken.None);

    public override async Task<RunSnapshot?> GetAsync(string instanceId)
    {
        var instance = await _engine.Client.GetAsync(instanceId, CancellationToken.None);
        return instance is null ? null : new RunSnapshot(
            Enum.Parse<RunState>(instance.RuntimeStatus),
            instance.CustomStatus?.GetRawText(),
            instance.Output?.GetRawText(),
            instance.Failure?.ErrorType,
            instance.Failure?.ErrorMessage);
    }

    public override async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _dataSource.DisposeAsync();
    }
}
