using System.Text.Json;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.Storage;

/// <summary>An orchestration instance as the status API shows it (Durable's status-query shape).</summary>
public sealed record InstanceMetadata(
    string InstanceId,
    string Name,
    string RuntimeStatus,
    DateTime CreatedTime,
    DateTime LastUpdatedTime,
    JsonElement? Input,
    JsonElement? Output,
    JsonElement? CustomStatus,
    ActivityFailureDetails? Failure,
    string? LockKey)
{
    /// <summary>Pending or Running.</summary>
    public bool IsActive => RuntimeStatus is "Pending" or "Running";
}

/// <summary>An instance id is taken.</summary>
public sealed class InstanceAlreadyExistsException(string instanceId)
    : Exception($"An orchestration instance with id '{instanceId}' already exists.")
{
    /// <summary>The id.</summary>
    public string InstanceId { get; } = instanceId;
}

/// <summary>Another active instance holds the lock key (for restores: the tenant is already being restored).</summary>
public sealed class LockKeyConflictException(string lockKey, string runningInstanceId)
    : Exception($"'{lockKey}' is held by running instance '{runningInstanceId}'.")
{
    /// <summary>The key.</summary>
    public string LockKey { get; } = lockKey;

    /// <summary>The instance holding it.</summary>
    public string RunningInstanceId { get; } = runningInstanceId;
}

/// <summary>No instance with that id.</summary>
public sealed class InstanceNotFoundException(string instanceId)
    : Exception($"No orchestration instance with id '{instanceId}'.")
{
    /// <summary>The id.</summary>
    public string InstanceId { get; } = instanceId;
}
