using System.Text.Json;

namespace RcmPitr.Api;

/// <summary>A run as the status API shows it (Durable's status-query fields).</summary>
/// <param name="Redeliveries">Activities of the run delivered more than once because a delivery was interrupted (a worker
/// died or lost its lease); null when the engine cannot tell (Durable Functions).</param>
/// <param name="OrchestratorKnown">False when this host does not run the run's orchestrator (another version started it).</param>
public sealed record RunInfo(
    string InstanceId,
    string Name,
    string RuntimeStatus,
    DateTime CreatedTime,
    DateTime LastUpdatedTime,
    JsonElement? Input,
    JsonElement? CustomStatus,
    JsonElement? Output,
    string? FailureMessage,
    IReadOnlyList<Redelivery>? Redeliveries = null,
    bool OrchestratorKnown = true)
{
    /// <summary>Pending or Running.</summary>
    public bool IsActive => RuntimeStatus is "Pending" or "Running";
}

/// <summary>
/// The durable engine behind the API: the embedded engine on the embedded host, Durable Functions' client on
/// Azure. Runs of one tenant are serialized: <see cref="StartAsync"/> refuses while another is active.
/// </summary>
public interface IRestoreRuns
{
    /// <summary>Starts a run for <paramref name="tenant"/>; throws <see cref="TenantBusyException"/> or <see cref="RunExistsException"/>.</summary>
    Task StartAsync(string orchestrator, string instanceId, object input, string tenant, CancellationToken cancellationToken);

    /// <summary>One run, or null.</summary>
    Task<RunInfo?> GetAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Raises an external event on an active run.</summary>
    Task RaiseEventAsync(string instanceId, string eventName, object payload, CancellationToken cancellationToken);

    /// <summary>Runs, newest first; <paramref name="tenant"/> and <paramref name="status"/> filter when given.</summary>
    Task<IReadOnlyList<RunInfo>> ListAsync(string? tenant, string? status, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a batch (<see cref="Workflow.Batches.RestoreBatchOrchestrator"/>): it holds no tenant itself — each of its member
    /// runs holds its own; throws <see cref="RunExistsException"/>.
    /// </summary>
    Task StartBatchAsync(string instanceId, object input, CancellationToken cancellationToken);

    /// <summary>Batches whose id starts with <paramref name="idPrefix"/> (<c>batch-</c>, or <c>drill-</c> for drills), newest first (at most 100).</summary>
    Task<IReadOnlyList<RunInfo>> ListBatchesAsync(string idPrefix, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a server recovery (<see cref="Workflow.Recoveries.RecoverServerOrchestrator"/>): one active recovery per server; it
    /// holds no tenant lock (each tenant's freeze is its hold). Throws <see cref="RunExistsException"/> or
    /// <see cref="Recoveries.ServerRecoveryBusyException"/>.
    /// </summary>
    Task StartRecoveryAsync(string instanceId, object input, string server, CancellationToken cancellationToken);

    /// <summary>Server recoveries, newest first (at most 100).</summary>
    Task<IReadOnlyList<RunInfo>> ListRecoveriesAsync(CancellationToken cancellationToken);
}

/// <summary>An activity call that was delivered again after an interrupted delivery.</summary>
/// <param name="State"><c>running</c>, <c>completed</c>, <c>failed</c>, <c>interrupted</c> (waiting to be delivered again) or <c>abandoned</c>.</param>
/// <param name="InterruptedDeliveries">Deliveries that ended without a result.</param>
public sealed record Redelivery(string Activity, int TaskId, string State, int Deliveries, int InterruptedDeliveries, DateTime ScheduledAt, DateTime? LastClaimedAt);

/// <summary>The tenant already has an active run.</summary>
public sealed class TenantBusyException(string tenant, string runningInstanceId)
    : Exception($"Tenant '{tenant}' already has an active run: {runningInstanceId}.")
{
    /// <summary>The active run.</summary>
    public string RunningInstanceId { get; } = runningInstanceId;
}

/// <summary>A run with that id exists.</summary>
public sealed class RunExistsException(string instanceId) : Exception($"A run with id '{instanceId}' already exists.")
{
    /// <summary>The id.</summary>
    public string InstanceId { get; } = instanceId;
}
