using RcmPitr.Scenarios.Tests.Activities;
using RcmPitr.Scenarios.Tests.Engines;

namespace RcmPitr.Scenarios.Tests;

/// <summary>The scenarios on the embedded engine, over a PostgreSQL database of each test's own.</summary>
[Trait("engine", "embedded")]
public sealed class OrchestratorScenariosOnEmbeddedEngine(ScenarioClusterFixture cluster) : OrchestratorScenarios, IClassFixture<ScenarioClusterFixture>
{
    protected override async Task<ScenarioEngine> StartEngineAsync(FakeActivities activities) =>
        await EmbeddedScenarioEngine.StartAsync(await cluster.NewDatabaseAsync(), activities);
}
