namespace RcmPitr.Workflow.Contracts;

/// <summary>Where a point-in-time restored server is in its life.</summary>
public enum ServerState
{
    /// <summary>Being created / recovering.</summary>
    Provisioning,

    /// <summary>Accepts connections and writes.</summary>
    Ready,

    /// <summary>Creation failed; the detail says why.</summary>
    Failed,

    /// <summary>No such server (never created, or deleted).</summary>
    NotFound,
}

/// <summary>Input of the provisioning step (runbook step 2): restore the source server to a new one at T — never over the live one.</summary>
/// <param name="ServerName">The new server's name (<c>&lt;source&gt;-pitr-&lt;stamp&gt;</c>); asking again for the same name and time is a no-op.</param>
public sealed record ProvisionServerInput(string RunId, DbServerInfo Source, string ServerName, DateTimeOffset RestoreTime);

/// <summary>Result of starting (or finding) the restore.</summary>
/// <param name="OperationUrl">
/// Where the platform reports the restore's progress and, when it fails, why (Azure: the accepted PUT's
/// <c>Azure-AsyncOperation</c>, else <c>Location</c>); null when this call started nothing or the platform has none.
/// An address of the platform's API, never a secret.
/// </param>
public sealed record ProvisionServerResult(string ServerName, ServerState State, bool AlreadyExisted, string? OperationUrl = null);

/// <summary>Input of the poll step.</summary>
/// <param name="OperationUrl">The restore's operation (<see cref="ProvisionServerResult.OperationUrl"/>), when known: polled beside the server.</param>
public sealed record GetServerStateInput(DbServerInfo Source, string ServerName, string? OperationUrl = null);

/// <summary>A PITR server's state; <see cref="Server"/> is set once it is <see cref="ServerState.Ready"/>.</summary>
public sealed record ServerStatus(string ServerName, ServerState State, DbServerInfo? Server = null, string? Detail = null);

/// <summary>Input of the clean-up step that removes the PITR server.</summary>
/// <param name="RestoreTime">
/// The time the server was restored to, when known: the provisioner then deletes it only if it created it for exactly
/// that time. Without it, the time the server's name stands for (its stamp, to the second) must match.
/// </param>
public sealed record DeleteServerInput(DbServerInfo Source, string ServerName, DateTimeOffset? RestoreTime = null);

/// <summary>Result of removing the PITR server.</summary>
/// <param name="Deleted">False when it was already gone.</param>
public sealed record DeleteServerResult(string ServerName, bool Deleted);

/// <summary>
/// Input of the step that takes this run's hold on the restored server for (<paramref name="Source"/>, <paramref name="RestoreTime"/>
/// to the second), creating the server if this run is its first holder. Runs restoring one source to one second share
/// one server; a retried acquire finds its hold.
/// </summary>
public sealed record AcquireServerInput(string RunId, DbServerInfo Source, DateTimeOffset RestoreTime);

/// <summary>The run's hold on a restored server.</summary>
/// <param name="ServerName">The server's name (<c>&lt;source&gt;-pitr-&lt;yyyyMMddHHmmss&gt;</c>).</param>
/// <param name="State">Its state now; poll <c>GetServerState</c> until <see cref="ServerState.Ready"/>.</param>
/// <param name="Created">True when this run's acquire created the server (every retry of it says so too); false when it attached.</param>
/// <param name="Holders">The runs holding the server, this one included, oldest hold first.</param>
/// <param name="OperationUrl">The restore's operation when this call started it (<see cref="ProvisionServerResult.OperationUrl"/>); poll with it.</param>
public sealed record AcquireServerResult(string ServerName, ServerState State, bool Created, IReadOnlyList<string> Holders, string? OperationUrl = null);

/// <summary>Input of the clean-up step that gives up this run's hold on the restored server.</summary>
public sealed record ReleaseServerInput(string RunId, DbServerInfo Source, string ServerName);

/// <summary>What releasing the run's hold did.</summary>
/// <param name="Held">Whether the run held the server; a run that held nothing released nothing and deleted nothing.</param>
/// <param name="Deleted">True when this run was the last holder and the server was deleted (or its deletion started, where the platform deletes asynchronously).</param>
/// <param name="RemainingHolders">The runs still holding it; the server stays while any does.</param>
public sealed record ReleaseServerResult(string ServerName, bool Held, bool Deleted, IReadOnlyList<string> RemainingHolders);
