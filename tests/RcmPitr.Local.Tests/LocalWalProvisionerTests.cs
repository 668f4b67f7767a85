using Npgsql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Local.Tests;

public sealed class LocalWalProvisionerTests
{
    [Fact]
    public async Task Restore_ToT_HoldsExactlyTheRowsCommittedAtOrBeforeT()
    {
        await using var home = await LocalHome.CreateAsync();
        var (state, _) = await home.Environment.UpAsync(TextWriter.Null, CancellationToken.None);
        var live = home.Environment.LiveServer(state);
        var times = await CommitMarkersAsync(home, live, count: 8, every: TimeSpan.FromMilliseconds(400));
        var restoreTime = times[3] + (times[4] - times[3]) / 2;
        var name = ServerNames.Pitr(live.Name, RestoreStamp.From(restoreTime));
        var provisioner = home.Environment.Provisioner;

        var started = await provisioner.ProvisionAsync(new ProvisionServerInput("run-1", live, name, restoreTime), CancellationToken.None);
        var ready = await WaitReadyAsync(provisioner, live, name);

        Assert.False(started.AlreadyExisted);
        Assert.NotEqual(live.Port, ready.Server!.Port);
        await using (var restored = await home.Environment.Connector.OpenAsync(ready.Server, "tenant_acme", CancellationToken.None))
        await using (var markers = new NpgsqlCommand("SELECT array_agg(id ORDER BY id) FROM public.pitr_marker", restored))
        {
            var ids = (int[])(await markers.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
            Assert.Equal(new[] { 1, 2, 3, 4 }, ids);
        }

        await using (var restored = await home.Environment.Connector.OpenAsync(ready.Server, "tenant_acme", CancellationToken.None))
        await using (var write = new NpgsqlCommand("INSERT INTO public.pitr_marker (at) VALUES (now())", restored))
        {
            await write.ExecuteNonQueryAsync(TestContext.Current.CancellationToken); // promoted: accepts writes
        }

        Assert.True((await provisioner.DeleteAsync(new DeleteServerInput(live, name), CancellationToken.None)).Deleted);
        Assert.Equal(ServerState.NotFound, (await provisioner.GetStateAsync(new GetServerStateInput(live, name), CancellationToken.None)).State);
        Assert.False((await provisioner.DeleteAsync(new DeleteServerInput(live, name), CancellationToken.None)).Deleted);
    }

    [Fact]
    public async Task Provision_Again_IsIdempotentByNameAndRefusesAnotherTime()
    {
        await using var home = await LocalHome.CreateAsync();
        var (state, _) = await home.Environment.UpAsync(TextWriter.Null, CancellationToken.None);
        var live = home.Environment.LiveServer(state);
        var times = await CommitMarkersAsync(home, live, count: 2, every: TimeSpan.FromMilliseconds(300));
        var provisioner = home.Environment.Provisioner;
        var input = new ProvisionServerInput("run-1", live, "pg-local-pitr-test", times[1]);
        await provisioner.ProvisionAsync(input, CancellationToken.None);

        var again = await provisioner.ProvisionAsync(input, CancellationToken.None);
        var error = await Assert.ThrowsAsync<InvalidRestoreInputException>(
            () => provisioner.ProvisionAsync(input with { RestoreTime = times[0] }, CancellationToken.None));

        Assert.True(again.AlreadyExisted);
        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Single(provisioner.List());
    }

    [Fact]
    public async Task Provision_BeforeTheEarliestTimeOrInTheFuture_IsRefusedBeforeAnythingIsCreated()
    {
        await using var home = await LocalHome.CreateAsync();
        var (state, _) = await home.Environment.UpAsync(TextWriter.Null, CancellationToken.None);
        var live = home.Environment.LiveServer(state);
        var provisioner = home.Environment.Provisioner;
        var earliest = await provisioner.GetEarliestRestoreTimeAsync(live, CancellationToken.None);

        var before = await Assert.ThrowsAsync<InvalidRestoreInputException>(
            () => provisioner.ProvisionAsync(new ProvisionServerInput("r", live, "pg-local-pitr-early", earliest.AddSeconds(-1)), CancellationToken.None));
        var future = await Assert.ThrowsAsync<InvalidRestoreInputException>(
            () => provisioner.ProvisionAsync(new ProvisionServerInput("r", live, "pg-local-pitr-late", TimeProvider.System.GetUtcNow().AddMinutes(5)), CancellationToken.None));

        Assert.Contains("earliest restorable time", before.Message, StringComparison.Ordinal);
        Assert.Contains("future", future.Message, StringComparison.Ordinal);
        Assert.Empty(provisioner.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(home.Environment.Layout.ServersDirectory));
    }

    [Fact]
    public async Task Backup_ThenPrune_AdvancesTheEarliestRestorableTimeAndCleansTheArchive()
    {
        await using var home = await LocalHome.CreateAsync();
        var (state, created) = await home.Environment.UpAsync(TextWriter.Null, CancellationToken.None);
        var (again, createdAgain) = await home.Environment.UpAsync(TextWriter.Null, CancellationToken.None);
        var first = Assert.Single(home.Environment.Backups.List());
        await CommitMarkersAsync(home, home.Environment.LiveServer(state), count: 1, every: TimeSpan.Zero);
        await using (var connection = await home.Environment.Connector.OpenMaintenanceAsync(home.Environment.LiveServer(state), CancellationToken.None))
        await using (var switchWal = new NpgsqlCommand("SELECT pg_switch_wal()", connection))
        {
            await switchWal.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        }

        var (taken, pruned) = await home.Environment.BackupAsync(TimeSpan.Zero, CancellationToken.None);
        var status = await home.Environment.StatusAsync(CancellationToken.None);

        Assert.True(created);
        Assert.False(createdAgain);
        Assert.Equal((state.LivePort, state.ApiPort, state.CreatedAt), (again.LivePort, again.ApiPort, again.CreatedAt));
        Assert.Equal([first.Name], pruned.RemovedBackups);
        Assert.Equal(taken.FinishedAt, pruned.EarliestRestorableTime);
        Assert.Equal(taken.FinishedAt, status.EarliestRestorableTime);
        Assert.DoesNotContain(Directory.EnumerateFiles(home.Environment.Layout.WalArchive).Select(Path.GetFileName),
            f => f!.Length == 24 && string.CompareOrdinal(f, taken.StartWalFile) < 0);
        Assert.Equal(["alice", "bob", "carol"], status.ApiKeys.Keys.Order());
        Assert.True(status.Running);
    }

    private static async Task<List<DateTimeOffset>> CommitMarkersAsync(LocalHome home, DbServerInfo live, int count, TimeSpan every)
    {
        await using var connection = await home.Environment.Connector.OpenAsync(live, "tenant_acme", CancellationToken.None);
        await using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS public.pitr_marker (id serial PRIMARY KEY, at timestamptz NOT NULL)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var times = new List<DateTimeOffset>();
        for (var i = 0; i < count; i++)
        {
            await using var insert = new NpgsqlCommand("INSERT INTO public.pitr_marker (at) VALUES (clock_timestamp()) RETURNING at", connection);
            times.Add(new DateTimeOffset((DateTime)(await insert.ExecuteScalarAsync())!, TimeSpan.Zero));
            await Task.Delay(every);
        }

        return times;
    }

    private static async Task<ServerStatus> WaitReadyAsync(LocalWalProvisioner provisioner, DbServerInfo live, string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (true)
        {
            var status = await provisioner.GetStateAsync(new GetServerStateInput(live, name), timeout.Token);
            if (status.State == ServerState.Ready)
            {
                return status;
            }

            Assert.Equal(ServerState.Provisioning, status.State);
            await Task.Delay(200, timeout.Token);
        }
    }
}
