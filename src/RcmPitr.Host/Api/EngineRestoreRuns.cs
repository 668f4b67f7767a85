using RcmPitr.Api;
using RcmPitr.Engine.Hosting;
using RcmPitr.Engine.Storage;
using RcmPitr.Workflow.Batches;

namespace RcmPitr.Host.Api;

/// <summary>The API's runs on the embedded engine. One active run per tenant is the engine's lock key <c>tenant:&lt;slug&gt;</c>.</summary>
public sealed class EngineRestoreRuns(EngineClient engine) : IRestoreRuns
{
    /// <summary>The lock key that allows one active run per tenant.</summary>
    public static string LockKeyFor(string tenant) => $"tenant:{tenant}";

    /// <inheritdoc />
    public async Task StartAsync(string orchestrator, string instanceId, object input, string tenant, CancellationToken cancellationToken)
    {
        try
        {
            await engine.StartAsync(orchestrator, instanceId, input, LockKeyFor(tenant), cancellationToken);
        }
        catch (LockKeyConflictException e)
        {
            throw new TenantBusyException(tenant, e.RunningInstanceId);
        }
        catch (InstanceAlreadyExistsException e)
        {
            throw new RunExistsException(e.InstanceId);
        }
    }

    /// <inheritdoc />
    public async Task<RunInfo?> GetAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (await engine.GetAsync(instanceId, cancellationToken) is not { } instance)
        {
            return null;
        }

        var redelivered = (await engine.GetActivitiesAsync(instanceId, cancellationToken))
            .Where(a => a.InterruptedDeliveries > 0)
            .Select(a => new Redelivery(a.Name, a.TaskId, a.State.ToString().ToLowerInvariant(), a.Deliveries, a.InterruptedDeliveries, a.ScheduledAt, a.ClaimedAt))
            .ToList();
        return ToRun(instance) with { Redeliveries = redelivered, OrchestratorKnown = engine.IsRegistered(instance.Name) };
    }

    /// <inheritdoc />
    public Task RaiseEventAsync(string instanceId, string eventName, object payload, CancellationToken cancellationToken) =>
        engine.RaiseEventAsync(instanceId, eventName, payload, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<RunInfo>> ListAsync(string? tenant, string? status, CancellationToken cancellationToken) =>
        (await engine.ListAsync(name: null, tenant is null ? null : LockKeyFor(tenant), status, limit: 100, cancellationToken)).Select(ToRun).ToList();

    /// <inheritdoc />
    public async Task StartBatchAsync(string instanceId, object input, CancellationToken cancellationToken)
    {
        try
        {
            await engine.StartAsync(RestoreBatchOrchestrator.Name, instanceId, input, lockKey: null, cancellationToken);
        }
        catch (InstanceAlreadyExistsException e)
        {
            throw new RunExistsException(e.InstanceId);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunInfo>> ListBatchesAsync(string idPrefix, CancellationToken cancellationToken) =>
        ListOfAsync(RestoreBatchOrchestrator.Name, idPrefix, cancellationToken);

    /// <inheritdoc />
    public async Task StartRecoveryAsync(string instanceId, object input, string server, CancellationToken cancellationToken)
    {
        try
        {
            await engine.StartAsync(Workflow.Recoveries.RecoverServerOrchestrator.Name, instanceId, input, $"server-recovery:{server}", cancellationToken);
        }
        catch (LockKeyConflictException e)
        {
            throw new RcmPitr.Api.Recoveries.ServerRecoveryBusyException(server, e.RunningInstanceId);
        }
        catch (InstanceAlreadyExistsException e)
        {
            throw new RunExistsException(e.InstanceId);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunInfo>> ListRecoveriesAsync(CancellationToken cancellationToken) =>
        ListOfAsync(Workflow.Recoveries.RecoverServerOrchestrator.Name, RcmPitr.Api.Recoveries.ServerRecoveryHandlers.IdPrefix, cancellationToken);

    // The runs of one orchestrator whose ids start with a prefix, newest first: the engine lists by name, the prefix tells batches from drills.
    private async Task<IReadOnlyList<RunInfo>> ListOfAsync(string orchestrator, string idPrefix, CancellationToken cancellationToken) =>
        (await engine.ListAsync(orchestrator, lockKey: null, status: null, limit: 500, cancellationToken))
        .Where(i => i.InstanceId.StartsWith(idPrefix, StringComparison.Ordinal)).Take(100).Select(ToRun).ToList();

    private static RunInfo ToRun(InstanceMetadata i) =>
        new(i.InstanceId, i.Name, i.RuntimeStatus, i.CreatedTime, i.LastUpdatedTime, i.Input, i.CustomStatus, i.Output, i.Failure?.ErrorMessage);
}
