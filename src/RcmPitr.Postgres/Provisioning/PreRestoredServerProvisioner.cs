using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Provisioning;

/// <summary>
/// Uses a server that already holds the state at T — restored by an operator beforehand, or a second
/// cluster in tests — instead of creating one. It is reported Ready at once, and "delete" leaves it alone:
/// RcmPitr did not create it, so it does not remove it. The live server's storage is unknown unless configured
/// (<paramref name="liveStorage"/>).
/// </summary>
public sealed class PreRestoredServerProvisioner(DbServerInfo restoredServer, DateTimeOffset earliestRestoreTime, ServerStorage? liveStorage = null) : IServerProvisioner
{
    /// <inheritdoc />
    public Task<DateTimeOffset> GetEarliestRestoreTimeAsync(DbServerInfo source, CancellationToken cancellationToken) =>
        Task.FromResult(earliestRestoreTime);

    /// <inheritdoc />
    public Task<ProvisionServerResult> ProvisionAsync(ProvisionServerInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.RestoreTime < earliestRestoreTime)
        {
            throw new InvalidRestoreInputException("restoreTime", $"{input.RestoreTime:O} is before the earliest restorable time {earliestRestoreTime:O}");
        }

        return Task.FromResult(new ProvisionServerResult(input.ServerName, ServerState.Ready, AlreadyExisted: true));
    }

    /// <inheritdoc />
    public Task<ServerStatus> GetStateAsync(GetServerStateInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Task.FromResult(new ServerStatus(input.ServerName, ServerState.Ready, restoredServer, "pre-restored server"));
    }

    /// <inheritdoc />
    public Task<DeleteServerResult> DeleteAsync(DeleteServerInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Task.FromResult(new DeleteServerResult(input.ServerName, Deleted: false));
    }

    /// <inheritdoc />
    public Task<ServerStorage> GetStorageAsync(DbServerInfo server, CancellationToken cancellationToken) =>
        Task.FromResult(liveStorage ?? ServerStorage.Unknown);
}
