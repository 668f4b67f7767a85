using System.Text.Json;
using RcmPitr.Engine.History;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.Hosting;

/// <summary>An orchestrator the engine can run, with JSON in and out.</summary>
public sealed record OrchestratorRegistration(string Name, Func<IOrchestrationContext, JsonElement?, Task<object?>> Invoke);

/// <summary>An activity the engine can run, with JSON in and out.</summary>
public sealed record ActivityRegistration(string Name, Func<JsonElement?, CancellationToken, Task<object?>> Invoke);

/// <summary>The orchestrators and activities one engine process serves, by name (case-insensitive, like Durable's).</summary>
public sealed class DurableRegistry
{
    private readonly Dictionary<string, OrchestratorRegistration> _orchestrators = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, ActivityRegistration> _activities = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers an orchestrator.</summary>
    public DurableRegistry AddOrchestrator<TInput, TOutput>(string name, Func<IOrchestrationContext, TInput, Task<TOutput>> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        _orchestrators.Add(name, new OrchestratorRegistration(name, async (context, input) =>
            await run(context, EngineJson.FromElement<TInput>(input) ?? throw new ArgumentException($"Orchestrator '{name}' needs an input."))));
        return this;
    }

    /// <summary>Registers an activity.</summary>
    public DurableRegistry AddActivity<TInput, TOutput>(string name, Func<TInput, CancellationToken, Task<TOutput>> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        _activities.Add(name, new ActivityRegistration(name, async (input, cancellationToken) =>
            await run(EngineJson.FromElement<TInput>(input) ?? throw new ArgumentException($"Activity '{name}' needs an input."), cancellationToken)));
        return this;
    }

    /// <summary>The orchestrator named <paramref name="name"/>.</summary>
    public OrchestratorRegistration Orchestrator(string name) =>
        _orchestrators.TryGetValue(name, out var registration) ? registration : throw new KeyNotFoundException($"No orchestrator named '{name}' is registered.");

    /// <summary>The activity named <paramref name="name"/>, or null.</summary>
    public ActivityRegistration? Activity(string name) => _activities.GetValueOrDefault(name);

    /// <summary>
    /// Whether this registry runs orchestrator <paramref name="name"/>. Instances of an orchestrator a process does
    /// not register are left untouched by it (no episode, no activity), for the process version that registers it.
    /// </summary>
    public bool IsOrchestratorRegistered(string name) => _orchestrators.ContainsKey(name);

    /// <summary>The names of the registered orchestrators.</summary>
    public IReadOnlyCollection<string> OrchestratorNames => _orchestrators.Keys;
}
