using System.Text.Json;

namespace RcmPitr.Api;

/// <summary>A run as the status API shows it (Durable's status-query fields).</summary>
public sealed record RunInfo(
    string InstanceId,
    string Name,
    string RuntimeStatus,
    DateTime CreatedTime,
    DateTime LastUpdatedTime,
    JsonElement? Input,
    JsonElement? CustomStatus,
    JsonElement? Output,
    string? FailureMessage)
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
}

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
