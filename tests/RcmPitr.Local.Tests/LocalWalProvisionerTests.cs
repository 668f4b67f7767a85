using System.Diagnostics;
using Npgsql;
using RcmPitr.Postgres.Processes;
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
        var input = new ProvisionServerInput("run-1", live, ServerNames.Pitr(live.Name, RestoreStamp.From(times[1])), times[1]);
        await provisioner.ProvisionAsync(input, CancellationToken.None);

        var again = await provisioner.ProvisionAsync(input, CancellationToken.None);
        // Names carry the second, so another time under one name only comes from a hand-made request: refused, nothing touched.
        var error = await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => provisioner.ProvisionAsync(input with { RestoreTime = times[1].AddMilliseconds(-1) }, CancellationToken.None));
        var delete = await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => provisioner.DeleteAsync(new DeleteServerInput(live, input.ServerName, times[1].AddMilliseconds(-1)), CancellationToken.None));

        Assert.True(again.AlreadyExisted);
        Assert.Contains($"created by RcmPitr for {live.Name} restored to {times[1]:O}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("delete", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("not deleted", delete.Message, StringComparison.Ordinal);
        Assert.Single(provisioner.List());
    }

    [Fact]
    public async Task Provision_InterruptedMidCopyThenAgain_ConvergesToAReadyServer()
    {
        await using var home = await LocalHome.CreateAsync();
        var (state, _) = await home.Environment.UpAsync(TextWriter.Null, CancellationToken.None);
        var live = home.Environment.LiveServer(state);
        // A base backup big enough that copying it takes a while, so the interruption lands in the middle of the copy.
        await using (var connection = await home.Environment.Connector.OpenAsync(live, "tenant_acme", CancellationToken.None))
        await using (var filler = new NpgsqlCommand("CREATE TABLE public.filler AS SELECT g AS id, repeat(md5(g::text), 30) AS pad FROM generate_series(1, 120000) g", connection))
        {
            await filler.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var (backup, _) = await home.Environment.BackupAsync(TimeSpan.FromDays(7), CancellationToken.None);
        var times = await CommitMarkersAsync(home, live, count: 2, every: TimeSpan.FromMilliseconds(300));
        var name = ServerNames.Pitr(live.Name, RestoreStamp.From(times[1]));
        var input = new ProvisionServerInput("run-1", live, name, times[1]);
        var data = Path.Combine(home.Environment.Layout.ServersDirectory, name, "data");
        var backupFiles = Directory.EnumerateFiles(home.Environment.Backups.DataDirectoryOf(backup), "*", SearchOption.AllDirectories).Count();

        using var interrupt = new CancellationTokenSource();
        var first = Task.Run(() => home.Environment.Provisioner.ProvisionAsync(input, interrupt.Token));
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while (!Directory.Exists(data) || !Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Any())
            {
                Assert.False(first.IsCompleted, "provisioning ended before its copy was seen");
                await Task.Delay(1, timeout.Token);
            }
        }

        await interrupt.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        var copied = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Count();
        var interrupted = await home.Environment.Provisioner.GetStateAsync(new GetServerStateInput(live, name), CancellationToken.None);
        TestContext.Current.TestOutputHelper?.WriteLine($"interrupted after {copied} of {backupFiles} files ({backup.SizeBytes / 1048576} MB backup)");

        var again = await home.Environment.Provisioner.ProvisionAsync(input, CancellationToken.None);
        var ready = await WaitReadyAsync(home.Environment.Provisioner, live, name);

        Assert.InRange(copied, 1, backupFiles - 1);
        Assert.Equal(ServerState.Failed, interrupted.State);
        Assert.Contains("interrupted", interrupted.Detail, StringComparison.Ordinal);
        Assert.False(again.AlreadyExisted);
        await using var restored = await home.Environment.Connector.OpenAsync(ready.Server!, "tenant_acme", CancellationToken.None);
        await using var check = new NpgsqlCommand("SELECT (SELECT count(*) FROM public.pitr_marker) || '/' || (SELECT count(*) FROM public.filler)", restored);
        Assert.Equal("1/120000", await check.ExecuteScalarAsync(TestContext.Current.CancellationToken)); // the second marker commits after T
    }

    [Fact]
    public async Task Provision_FolderRcmPitrDidNotCreate_IsNeitherUsedNorDeleted()
    {
        await using var home = await LocalHome.CreateAsync();
        var (state, _) = await home.Environment.UpAsync(TextWriter.Null, CancellationToken.None);
        var live = home.Environment.LiveServer(state);
        var times = await CommitMarkersAsync(home, live, count: 1, every: TimeSpan.Zero);
        var name = ServerNames.Pitr(live.Name, RestoreStamp.From(times[0]));
        var foreign = Path.Combine(home.Environment.Layout.ServersDirectory, name);
        Directory.CreateDirectory(Path.Combine(foreign, "data"));
        await File.WriteAllTextAsync(Path.Combine(foreign, "data", "PG_VERSION"), "15\n", TestContext.Current.CancellationToken);

        var provision = await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => home.Environment.Provisioner.ProvisionAsync(new ProvisionServerInput("run-1", live, name, times[0]), CancellationToken.None));
        var delete = await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => home.Environment.Provisioner.DeleteAsync(new DeleteServerInput(live, name), CancellationToken.None));
        var status = await home.Environment.Provisioner.GetStateAsync(new GetServerStateInput(live, name), CancellationToken.None);

        Assert.Contains("RcmPitr did not create it", provision.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("delete it", provision.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("remove it", provision.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("neither used nor deleted", delete.Message, StringComparison.Ordinal);
        Assert.Equal(ServerState.Failed, status.State);
        Assert.True(File.Exists(Path.Combine(foreign, "data", "PG_VERSION")));
    }

    [Fact]
    public async Task Provision_TwoRunsAtOnceForOneNameAndTime_CreateOneServerBothSeeReady()
    {
        await using var home = await LocalHome.CreateAsync();
        var (state, _) = await home.Environment.UpAsync(TextWriter.Null, CancellationToken.None);
        var live = home.Environment.LiveServer(state);
        var times = await CommitMarkersAsync(home, live, count: 2, every: TimeSpan.FromMilliseconds(300));
        var name = ServerNames.Pitr(live.Name, RestoreStamp.From(times[1]));
        var clock = Stopwatch.StartNew();

        // Two runs restoring one source to one second: the quarterly dry run does this for every tenant of a server.
        var started = await Task.WhenAll(
            Task.Run(() => home.Environment.Provisioner.ProvisionAsync(new ProvisionServerInput("run-a", live, name, times[1]), CancellationToken.None)),
            Task.Run(() => home.Environment.Provisioner.ProvisionAsync(new ProvisionServerInput("run-b", live, name, times[1]), CancellationToken.None)));
        var provisioned = clock.Elapsed;
        var ready = await WaitReadyAsync(home.Environment.Provisioner, live, name);
        TestContext.Current.TestOutputHelper?.WriteLine($"both provisioning calls returned after {provisioned.TotalSeconds:F1} s, ready after {clock.Elapsed.TotalSeconds:F1} s");

        Assert.Single(started, s => !s.AlreadyExisted);
        Assert.Single(home.Environment.Provisioner.List());
        await using var restored = await home.Environment.Connector.OpenAsync(ready.Server!, "tenant_acme", CancellationToken.None);
        await using var markers = new NpgsqlCommand("SELECT count(*) FROM public.pitr_marker", restored);
        // The second marker's row is stamped before its commit, which is after T: only the first is restored.
        Assert.Equal(1L, await markers.ExecuteScalarAsync(TestContext.Current.CancellationToken));
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
    public async Task GetStorage_LiveCluster_ReportsTheFileSystemOfItsDataDirectory()
    {
        await using var home = await LocalHome.CreateAsync();
        var (state, _) = await home.Environment.UpAsync(TextWriter.Null, CancellationToken.None);
        var live = home.Environment.LiveServer(state);

        var storage = await home.Environment.Provisioner.GetStorageAsync(live, CancellationToken.None);
        // df, independently: size and available bytes of the file system holding the live data directory.
        var df = await new ProcessRunner().RunAsync(
            new ProcessSpec("df", ["-B1", "--output=size,avail", Path.Combine(home.Environment.Layout.LiveDirectory, "data")]), CancellationToken.None);
        var numbers = df.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();

        Assert.Equal(0, df.ExitCode);
        Assert.Equal(numbers[0], storage.CapacityBytes);
        Assert.NotNull(storage.FreeBytes);
        // Other processes write to the same disk between the two readings.
        Assert.InRange(storage.FreeBytes.Value, numbers[1] - (512L << 20), numbers[1] + (512L << 20));
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
