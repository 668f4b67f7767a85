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
public sealed record ProvisionServerResult(string ServerName, ServerState State, bool AlreadyExisted);

/// <summary>Input of the poll step.</summary>
public sealed record GetServerStateInput(DbServerInfo Source, string ServerName);

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
