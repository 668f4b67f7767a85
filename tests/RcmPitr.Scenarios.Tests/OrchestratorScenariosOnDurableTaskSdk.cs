using RcmPitr.Scenarios.Tests.Activities;
using RcmPitr.Scenarios.Tests.Engines;

namespace RcmPitr.Scenarios.Tests;

/// <summary>The scenarios on the real Durable Task SDK, through the Functions app's orchestrator triggers.</summary>
[Trait("engine", "durabletask-sdk")]
public sealed class OrchestratorScenariosOnDurableTaskSdk : OrchestratorScenarios
{
    protected override Task<ScenarioEngine> StartEngineAsync(FakeActivities activities) => DurableTaskSdkScenarioEngine.StartAsync(activities);
}
