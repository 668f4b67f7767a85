using RcmPitr.Scenarios.Tests.Activities;

namespace RcmPitr.Scenarios.Tests.Engines;

/// <summary>
/// One engine under the scenario suite, started with the workflow's three orchestrators (registered as its host
/// registers them) and a set of fake activities: start an instance, raise an event, read its status.
/// </summary>
public abstract class ScenarioEngine : IAsyncDisposable
{
    /// <summary>Schedules a new instance of <paramref name="orchestrator"/>.</summary>
    public abstract Task StartAsync(string orchestrator, string instanceId, object input);

    /// <summary>Raises an external event on an instance.</summary>
    public abstract Task RaiseEventAsync(string instanceId, string eventName, object payload);

    /// <summary>The instance's status, output and failure; null while the engine does not know it yet.</summary>
    public abstract Task<RunSnapshot?> GetAsync(string instanceId);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}

/// <summary>Starts a <see cref="ScenarioEngine"/> over a set of fake activities.</summary>
public delegate Task<ScenarioEngine> ScenarioEngineFactory(FakeActivities activities);
