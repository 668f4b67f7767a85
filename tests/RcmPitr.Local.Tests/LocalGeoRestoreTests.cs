using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Local.Tests;

/// <summary>The local geo-restore (region loss) on a real local environment: idempotent by name, never a point-in-time server.</summary>
public sealed class LocalGeoRestoreTests
{
    [Fact]
    public async Task StartGeoRestore_AskedAgain_FindsTheSameServerAndItsRestorePointStays()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var home = await LocalHome.CreateAsync();
        var (state, _) = await home.Environment.UpAsync(TextWriter.Null, ct);
        var live = home.Environment.LiveServer(state);
        var provisioner = home.Environment.Provisioner;
        var name = ServerNames.Geo(live.Name, RestoreStamp.From(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero)));

        var first = await provisioner.StartGeoRestoreAsync(new GeoRestoreInput("recovery-1", live, name), ct);
        var ready = await WaitReadyAsync(provisioner, live, name, ct);
        var again = await provisioner.StartGeoRestoreAsync(new GeoRestoreInput("recovery-1", live, name), ct);
        var readAgain = await provisioner.GetGeoRestoreStateAsync(new GetServerStateInput(live, name), ct);

        Assert.False(first.AlreadyExisted);
        Assert.True(again.AlreadyExisted);
        Assert.Equal(first.RequestedAt, again.RequestedAt);
        Assert.Single(provisioner.List(), s => s.Name == name);
        Assert.Equal(ready.Status.Server, readAgain.Status.Server);
        Assert.Equal(ready.RestorePoint, readAgain.RestorePoint);
        Assert.Contains("not a point in time", ready.RestorePoint, StringComparison.Ordinal);
        // A point-in-time request never uses or deletes a geo-restored server.
        await Assert.ThrowsAsync<DatabaseStateConflictException>(() => provisioner.DeleteAsync(new DeleteServerInput(live, name), ct));
        await Assert.ThrowsAsync<InvalidRestoreInputException>(
            () => provisioner.StartGeoRestoreAsync(new GeoRestoreInput("recovery-1", live, ServerNames.Pitr(live.Name, RestoreStamp.From(DateTimeOffset.UnixEpoch))), ct));
    }

    private static async Task<GeoRestoreState> WaitReadyAsync(LocalWalProvisioner provisioner, DbServerInfo live, string name, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        while (true)
        {
            var state = await provisioner.GetGeoRestoreStateAsync(new GetServerStateInput(live, name), timeout.Token);
            if (state.Status.State == ServerState.Ready)
            {
                return state;
            }

            Assert.Equal(ServerState.Provisioning, state.Status.State);
            await Task.Delay(200, timeout.Token);
        }
    }
}
