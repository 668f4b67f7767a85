using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class TenantTransferTests(ClusterFixture fx)
{
    [Theory]
    [InlineData(TransferMode.Streaming)]
    [InlineData(TransferMode.Parallel)]
    public async Task MoveAsync_FillsTheRestoreDatabaseMarksItAndRecordsProgress(TransferMode mode)
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var liveBefore = await s.FingerprintAsync(s.Live, tenant.DatabaseName);

        var result = await s.Transfer.MoveAsync(Input(s, slug, mode), CancellationToken.None);

        Assert.Equal(TenantDatabaseNames.For(TenantSlug.Parse(slug)).Restore(RestoreStamp.Parse(TestData.Stamp), s.RunId), result.DatabaseName);
        Assert.False(result.Reused);
        Assert.Equal(mode, result.Mode);
        Assert.True(result.Tables >= 3, $"{result.Tables} tables");
        Assert.Equal(await s.FingerprintAsync(s.Pitr, tenant.DatabaseName), await s.FingerprintAsync(s.Live, result.DatabaseName));
        Assert.Equal(liveBefore, await s.FingerprintAsync(s.Live, tenant.DatabaseName));
        Assert.True((await RestoreDatabaseLoaderTests.MarkerAsync(s, result.DatabaseName))!.IsLoadedBy(s.RunId));
        var progress = await new TransferProgressStore(s.Master).GetAsync(s.RunId, CancellationToken.None);
        Assert.NotNull(progress);
        Assert.Equal((MovePhases.Done, mode.ToString().ToLowerInvariant(), (string?)null), (progress.Phase, progress.Mode, progress.Error));
        Assert.Equal(result.BytesMoved, progress.BytesMoved);
        if (mode == TransferMode.Streaming)
        {
            Assert.Equal((result.Tables, result.Tables), (progress.TablesDone, progress.TablesTotal));
        }
    }

    [Fact]
    public async Task MoveAsync_RunTwice_ReusesTheFinishedMove()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var first = await s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None);
        await s.ExecAsync(s.Live, first.DatabaseName, "CREATE TABLE public.sentinel (x int)");

        var second = await s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None);

        Assert.True(second.Reused);
        Assert.Equal(first.Tables, second.Tables);
        Assert.Equal(1L, await s.ScalarAsync<long>(s.Live, second.DatabaseName, "SELECT count(*) FROM pg_tables WHERE tablename = 'sentinel'"));
    }

    [Fact]
    public async Task MoveAsync_PartialMoveOfThisRun_IsDroppedAndRedone()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var target = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Restore(RestoreStamp.Parse(TestData.Stamp), s.RunId);
        await using (var maintenance = await s.Connector.OpenMaintenanceAsync(s.Live, CancellationToken.None))
        {
            var catalog = new ServerCatalog(maintenance);
            await catalog.CreateAsync(target, (await catalog.FindAsync("postgres", CancellationToken.None))!, new DatabaseMarker(DatabaseMarker.Loading, s.RunId, TestData.Stamp), CancellationToken.None);
        }

        await s.ExecAsync(s.Live, target, "CREATE TABLE public.half_done (x int)");

        var result = await s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None);

        Assert.False(result.Reused);
        Assert.Equal(await s.FingerprintAsync(s.Pitr, tenant.DatabaseName), await s.FingerprintAsync(s.Live, target));
        Assert.Equal(0L, await s.ScalarAsync<long>(s.Live, target, "SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'"));
    }

    [Fact]
    public async Task MoveAsync_TargetOfAnotherRun_IsKeptAndThisRunFillsItsOwn()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var other = await s.Transfer.MoveAsync(Input(s, slug) with { RunId = "other-run" }, CancellationToken.None);

        var mine = await s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None);

        Assert.NotEqual(other.DatabaseName, mine.DatabaseName);
        Assert.True((await RestoreDatabaseLoaderTests.MarkerAsync(s, other.DatabaseName))!.IsLoadedBy("other-run"));
        Assert.True((await RestoreDatabaseLoaderTests.MarkerAsync(s, mine.DatabaseName))!.IsLoadedBy(s.RunId));
    }

    [Fact]
    public async Task MoveAsync_SourceBlockedByALock_StopsAsStalledThenARetryFinishes()
    {
        await using var s = await Scenario.StartAsync(fx);
        s.Mover.StallTimeout = TimeSpan.FromSeconds(3);
        s.Mover.ProgressInterval = TimeSpan.FromMilliseconds(250);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var blocker = await s.Connector.OpenAsync(s.Pitr, tenant.DatabaseName, CancellationToken.None);
        var transaction = await blocker.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE members.member IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await lockTable.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TransferStalledException>(() => s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None));
        var waited = clock.Elapsed;

        Assert.Contains("no progress", error.Message, StringComparison.Ordinal);
        Assert.Contains(s.Pitr.Name, error.Message, StringComparison.Ordinal);
        Assert.InRange(waited, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60));
        var progress = await new TransferProgressStore(s.Master).GetAsync(s.RunId, CancellationToken.None);
        Assert.Equal("failed", progress!.Phase);
        Assert.Contains("no progress", progress.Error, StringComparison.Ordinal);

        await transaction.RollbackAsync(TestContext.Current.CancellationToken);
        await blocker.DisposeAsync();
        var retry = await s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None);

        Assert.False(retry.Reused);
        Assert.Equal(await s.FingerprintAsync(s.Pitr, tenant.DatabaseName), await s.FingerprintAsync(s.Live, retry.DatabaseName));
        Assert.Null((await new TransferProgressStore(s.Master).GetAsync(s.RunId, CancellationToken.None))!.Error);
    }

    [Fact]
    public async Task MoveAsync_FailingAtOnceWhileTheProgressProbesStillConnect_ReportsItsOwnFailure()
    {
        await using var s = await Scenario.StartAsync(fx, connection: new PgConnectionOptions { ConnectTimeoutSeconds = 3 });
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        // A source that accepts connections and never answers keeps the probe opening; an open scratch root fails the move first.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var source = s.Pitr with { Port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port };
        Directory.CreateDirectory(s.Mover.ScratchDirectory);
        File.SetUnixFileMode(s.Mover.ScratchDirectory, (UnixFileMode)0b111_111_111);

        await Assert.ThrowsAsync<UnsafeDirectoryException>(
            () => s.Transfer.MoveAsync(Input(s, slug) with { Source = source }, CancellationToken.None));

        var progress = await new TransferProgressStore(s.Master).GetAsync(s.RunId, CancellationToken.None);
        Assert.Contains("scratch folder", progress!.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MoveAsync_MasterWithoutTheProgressTable_StillMoves()
    {
        await using var s = await Scenario.StartAsync(fx);
        await s.ExecMasterAsync("DROP TABLE rcm_pitr.transfer_progress");
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);

        var result = await s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None);

        Assert.Equal(await s.FingerprintAsync(s.Pitr, tenant.DatabaseName), await s.FingerprintAsync(s.Live, result.DatabaseName));
    }

    private static MoveTenantInput Input(Scenario s, string slug, TransferMode mode = TransferMode.Streaming) =>
        new(s.RunId, s.Pitr, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.Restore, mode);
}
