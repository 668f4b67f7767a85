using RcmPitr.Engine.Storage;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.Hosting;

/// <summary>Starts, queries, signals and terminates orchestration instances (Durable's client, for the embedded engine).</summary>
/// <param name="registry">What this process's engine runs (for <see cref="IsRegistered"/>); none for a client-only process.</param>
public sealed class EngineClient(EngineStore store, TimeProvider time, DurableRegistry? registry = null) : IOrchestrationStarter
{
    /// <summary>
    /// Whether this process's engine runs orchestrator <paramref name="orchestratorName"/> (case-insensitive). An
    /// instance of an orchestrator it does not run stays as it is here, waiting for the deployed version that
    /// registers it; false for a client built without a registry.
    /// </summary>
    public bool IsRegistered(string orchestratorName) => registry?.IsOrchestratorRegistered(orchestratorName) ?? false;

    /// <summary>Starts an instance. <paramref name="lockKey"/>: at most one active instance per key.</summary>
    public Task StartAsync(string orchestratorName, string instanceId, object input, string? lockKey, CancellationToken cancellationToken) =>
        store.CreateInstanceAsync(orchestratorName, instanceId, input, lockKey, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> StartIfAbsentAsync(string orchestratorName, string instanceId, object input, CancellationToken cancellationToken)
    {
        try
        {
            await StartAsync(orchestratorName, instanceId, input, lockKey: null, cancellationToken);
            return true;
        }
        catch (InstanceAlreadyExistsException)
        {
            return false;
        }
    }

    /// <summary>Raises an external event.</summary>
    public Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken) =>
        store.RaiseEventAsync(instanceId, eventName, payload, cancellationToken);

    /// <summary>Terminates an active instance (no compensation runs); false when it had already ended.</summary>
    public Task<bool> TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken) =>
        store.TerminateAsync(instanceId, reason, cancellationToken);

    /// <summary>One instance, or null.</summary>
    public Task<InstanceMetadata?> GetAsync(string instanceId, CancellationToken cancellationToken) => store.GetInstanceAsync(instanceId, cancellationToken);

    /// <summary>
    /// Every activity call of an instance in task order: how many times it was delivered, and whether it is
    /// scheduled, running (since when, leased by which loop), interrupted (to be delivered again), completed,
    /// failed or abandoned. Throws <see cref="InstanceNotFoundException"/> for an unknown instance.
    /// </summary>
    public Task<IReadOnlyList<ActivityDeliveryStatus>> GetActivitiesAsync(string instanceId, CancellationToken cancellationToken) =>
        store.GetActivitiesAsync(instanceId, cancellationToken);

    /// <summary>Instances, newest first.</summary>
    public Task<IReadOnlyList<InstanceMetadata>> ListAsync(string? name, string? lockKey, string? status, int limit, CancellationToken cancellationToken) =>
        store.ListInstancesAsync(name, lockKey, status, limit, cancellationToken);

    /// <summary>Polls until the instance ends (or <paramref name="cancellationToken"/> fires).</summary>
    public async Task<InstanceMetadata> WaitForCompletionAsync(string instanceId, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        while (true)
        {
            var instance = await GetAsync(instanceId, cancellationToken) ?? throw new InstanceNotFoundException(instanceId);
            if (!instance.IsActive)
            {
                return instance;
            }

            await Task.Delay(pollInterval, time, cancellationToken);
        }
    }
}
