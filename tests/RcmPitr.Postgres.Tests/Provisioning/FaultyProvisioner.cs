using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Tests.Provisioning;

/// <summary>
/// The real provisioner with the faults a dying worker brings: the next deletion can be held mid-flight until the test
/// lets it go, or crash before or after the real deletion, as a process killed at that point would.
/// </summary>
public sealed class FaultyProvisioner(IServerProvisioner inner) : IServerProvisioner
{
    public enum Crash
    {
        None,
        BeforeDelete,
        AfterDelete,
    }

    public Crash NextDelete { get; set; }

    /// <summary>When set, the next deletion signals <see cref="DeleteEntered"/> and waits for this before deleting.</summary>
    public TaskCompletionSource? HoldDelete { get; set; }

    public TaskCompletionSource DeleteEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Created;

    public Task<DateTimeOffset> GetEarliestRestoreTimeAsync(DbServerInfo source, CancellationToken cancellationToken) =>
        inner.GetEarliestRestoreTimeAsync(source, cancellationToken);

    public async Task<ProvisionServerResult> ProvisionAsync(ProvisionServerInput input, CancellationToken cancellationToken)
    {
        var result = await inner.ProvisionAsync(input, cancellationToken);
        if (!result.AlreadyExisted)
        {
            Interlocked.Increment(ref Created);
        }

        return result;
    }

    public Task<ServerStatus> GetStateAsync(GetServerStateInput input, CancellationToken cancellationToken) => inner.GetStateAsync(input, cancellationToken);

    public async Task<DeleteServerResult> DeleteAsync(DeleteServerInput input, CancellationToken cancellationToken)
    {
        if (HoldDelete is { } hold)
        {
            HoldDelete = null;
            DeleteEntered.TrySetResult();
            await hold.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }

        var crash = NextDelete;
        NextDelete = Crash.None;
        if (crash == Crash.BeforeDelete)
        {
            throw new SimulatedWorkerDeathException("before the server was deleted");
        }

        var result = await inner.DeleteAsync(input, cancellationToken);
        return crash == Crash.AfterDelete ? throw new SimulatedWorkerDeathException("after the server was deleted") : result;
    }

    public Task<ServerStorage> GetStorageAsync(DbServerInfo server, CancellationToken cancellationToken) => inner.GetStorageAsync(server, cancellationToken);
}
