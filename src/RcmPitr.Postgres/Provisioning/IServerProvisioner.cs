using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Provisioning;

/// <summary>
/// Restores a whole server to a point in time as a NEW server (runbook step 2) — Azure's ARM
/// point-in-time restore in production, a WAL-based restore of a local cluster on the embedded host.
/// Every method is idempotent by server name. A provisioner only ever deletes a server it created for the same
/// source and restore time; restored servers are shared by the runs that hold them (see <see cref="RestoredServers"/>).
/// </summary>
public interface IServerProvisioner
{
    /// <summary>The earliest time the source can be restored to (the retention window's start).</summary>
    Task<DateTimeOffset> GetEarliestRestoreTimeAsync(DbServerInfo source, CancellationToken cancellationToken);

    /// <summary>Starts the restore, or finds the one already requested under that name and time.</summary>
    Task<ProvisionServerResult> ProvisionAsync(ProvisionServerInput input, CancellationToken cancellationToken);

    /// <summary>The server's state; once Ready, how to reach it.</summary>
    Task<ServerStatus> GetStateAsync(GetServerStateInput input, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the restored server; a missing one is already deleted. Refuses (and leaves alone) a server that it did
    /// not create for this source and time.
    /// </summary>
    Task<DeleteServerResult> DeleteAsync(DeleteServerInput input, CancellationToken cancellationToken);

    /// <summary>The storage of a live <paramref name="server"/>: capacity and free space where known, null where not.</summary>
    Task<ServerStorage> GetStorageAsync(DbServerInfo server, CancellationToken cancellationToken);
}
