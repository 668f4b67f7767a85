using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Operations;
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

        Assert.Equal($"{tenant.DatabaseName}_restore_{TestData.Stamp}_{RunIds.Tag(s.RunId)}", result.DatabaseName);
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
        // What the copy (streaming) or the dump (parallel) achieved stays; a finished move has no estimated end.
        Assert.True(progress.BytesPerSecond > 0, $"{progress.BytesPerSecond} bytes/s");
        Assert.Null(progress.EstimatedFinishAt);
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

    [Theory]
    [InlineData("rcm-pitr:loaded run=other-run stamp=20260422143000")]
    [InlineData(null)]
    public async Task MoveAsync_TargetNotMarkedByThisRun_IsRefusedAndKept(string? comment)
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var target = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Restore(RestoreStamp.Parse(TestData.Stamp), s.RunId);
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(target)}");
        await s.ExecAsync(s.Live, target, "CREATE TABLE public.someone_elses (x int)");
        if (comment is not null)
        {
            await s.ExecAsync(s.Live, "postgres", $"COMMENT ON DATABASE {PgQuote.Identifier(target)} IS {PgQuote.Literal(comment)}");
        }

        var error = await Assert.ThrowsAsync<DatabaseStateConflictException>(() => s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None));

        Assert.Contains("never drops a database it did not mark", error.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await s.ScalarAsync<long>(s.Live, target, "SELECT count(*) FROM pg_tables WHERE tablename = 'someone_elses'"));
    }

    [Fact]
    public async Task MoveAsync_CrashedBetweenCreateAndRename_RerunDropsTheTemporaryAndFinishes()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var target = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Restore(RestoreStamp.Parse(TestData.Stamp), s.RunId);
        // What a worker leaves when it dies after CREATE DATABASE, before the marker and the rename.
        var temporary = RestoreTargets.TemporaryName(s.RunId, target);
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(temporary)}");

        var result = await s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None);

        Assert.Equal(target, result.DatabaseName);
        Assert.Equal(await s.FingerprintAsync(s.Pitr, tenant.DatabaseName), await s.FingerprintAsync(s.Live, target));
        Assert.Equal(0L, await s.ScalarAsync<long>(s.Live, "postgres", "SELECT count(*) FROM pg_database WHERE datname = $1", temporary));
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
        Assert.Null(progress.EstimatedFinishAt);

        await transaction.RollbackAsync(TestContext.Current.CancellationToken);
        await blocker.DisposeAsync();
        var retry = await s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None);

        Assert.False(retry.Reused);
        Assert.Equal(await s.FingerprintAsync(s.Pitr, tenant.DatabaseName), await s.FingerprintAsync(s.Live, retry.DatabaseName));
        Assert.Null((await new TransferProgressStore(s.Master).GetAsync(s.RunId, CancellationToken.None))!.Error);
    }

    [Fact]
    public async Task MoveAsync_SlowButWorkingIndexBuild_IsNotStoppedAsStalled()
    {
        await using var s = await Scenario.StartAsync(fx);
        s.Mover.StallTimeout = TimeSpan.FromSeconds(1);
        s.Mover.ProgressInterval = TimeSpan.FromMilliseconds(200);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 300);
        // An expression index whose function burns CPU per row: its build on the target takes several stall timeouts,
        // while the session works and the build's progress counters move.
        await s.ExecAsync(s.Pitr, tenant.DatabaseName,
            """
            CREATE FUNCTION members.slow_key(text) RETURNS text LANGUAGE sql IMMUTABLE AS
              $f$ SELECT $1 || (SELECT count(*) FROM generate_series(1, 300000))::text $f$;
            CREATE INDEX member_slow_key ON members.member (members.slow_key(member_number));
            """);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = await s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None);

        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(2), $"the move took only {clock.Elapsed}; the index build must outlast the stall timeout for this test to mean anything");
        Assert.Equal(await s.FingerprintAsync(s.Pitr, tenant.DatabaseName), await s.FingerprintAsync(s.Live, result.DatabaseName));
        Assert.Null((await new TransferProgressStore(s.Master).GetAsync(s.RunId, CancellationToken.None))!.Error);
    }

    [Fact]
    public async Task MoveAsync_StallTimeoutZero_NeverStopsABlockedMove()
    {
        await using var s = await Scenario.StartAsync(fx);
        s.Mover.StallTimeout = TimeSpan.Zero;
        s.Mover.ProgressInterval = TimeSpan.FromMilliseconds(200);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var blocker = await s.Connector.OpenAsync(s.Pitr, tenant.DatabaseName, CancellationToken.None);
        var transaction = await blocker.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE members.member IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await lockTable.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var move = s.Transfer.MoveAsync(Input(s, slug), CancellationToken.None);
        // Blocked for well over what a 3 s timeout would allow, as the progress row (written every 200 ms) shows.
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while (await new TransferProgressStore(s.Master).GetAsync(s.RunId, CancellationToken.None) is not { } row || row.UpdatedAt - row.ProgressedAt < TimeSpan.FromSeconds(4))
            {
                Assert.False(move.IsCompleted, "the blocked move ended although stall detection is off");
                await Task.Delay(100, timeout.Token);
            }
        }

        Assert.False(move.IsCompleted);
        await transaction.RollbackAsync(TestContext.Current.CancellationToken);
        await blocker.DisposeAsync();
        var result = await move;

        Assert.Equal(await s.FingerprintAsync(s.Pitr, tenant.DatabaseName), await s.FingerprintAsync(s.Live, result.DatabaseName));
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
