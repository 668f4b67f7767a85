using Npgsql;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class SwapCutoverTests(ClusterFixture fx)
{
    [Fact]
    public async Task CutOverAsync_LoadedRestore_SwapsAndKeepsThePreviousDatabase()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        var restoredPrint = await s.FingerprintAsync(s.Live, names.Restore(stamp, s.RunId));
        var livePrint = await s.FingerprintAsync(s.Live, names.Canonical);
        await using var session = await s.Connector.OpenAsync(s.Live, names.Canonical, CancellationToken.None);

        var result = await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);

        Assert.False(result.AlreadyDone);
        Assert.True(result.TerminatedConnections >= 1);
        Assert.Equal(restoredPrint, await s.FingerprintAsync(s.Live, names.Canonical));
        Assert.Equal(livePrint, await s.FingerprintAsync(s.Live, names.PrePitr(stamp, s.RunId)));
        Assert.Equal([names.Canonical, names.PrePitr(stamp, s.RunId)], await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task CutOverAsync_RunTwice_SecondReportsDone()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        var input = new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp);
        await s.Swap.CutOverAsync(input, CancellationToken.None);

        var second = await s.Swap.CutOverAsync(input, CancellationToken.None);

        Assert.True(second.AlreadyDone);
        Assert.Equal([names.Canonical, names.PrePitr(stamp, s.RunId)], await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task CutOverAsync_SecondRenameFails_TheFirstIsUndoneAndLiveReopens()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        var livePrint = await s.FingerprintAsync(s.Live, names.Canonical);
        var input = new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp);

        // A concurrent catalog update of the restored copy makes the swap's second rename fail, after its first succeeded.
        await FailSecondRenameAsync(s, names.Restore(stamp, s.RunId), () => s.Swap.CutOverAsync(input, CancellationToken.None));

        Assert.Equal(livePrint, await s.FingerprintAsync(s.Live, names.Canonical));
        Assert.Equal([names.Canonical, names.Restore(stamp, s.RunId)], await s.DatabasesOfAsync(s.Live, slug));
        Assert.True(await AllowsConnectionsAsync(s, names.Canonical));
        var retried = await s.Swap.CutOverAsync(input, CancellationToken.None);
        Assert.False(retried.AlreadyDone);
        Assert.Equal([names.Canonical, names.PrePitr(stamp, s.RunId)], await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task CutOverAsync_KeptDatabase_IsMarkedByTheRunAndOpenAgain()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);

        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);

        Assert.Equal($"rcm-pitr:kept run={s.RunId} stamp={TestData.Stamp}", await CommentAsync(s, names.PrePitr(stamp, s.RunId)));
        Assert.True(await AllowsConnectionsAsync(s, names.PrePitr(stamp, s.RunId)));
        Assert.True(await AllowsConnectionsAsync(s, names.Canonical));
    }

    [Fact]
    public async Task CutOverAsync_WhileTheRenamesRun_LiveIsClosedToNewSessions()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);

        // Hold the swap inside its transaction (its second rename waits), after it ended the live database's sessions.
        await using var held = await HoldSecondRenameAsync(s, names.Restore(stamp, s.RunId), () => s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None));
        var closedWhileRenaming = !await AllowsConnectionsAsync(s, names.Canonical);
        await held.ReleaseAsync();

        Assert.True(closedWhileRenaming, "pools could reconnect to the live database between the end of its sessions and the renames");
        Assert.False((await held.Swap).AlreadyDone);
        Assert.Equal([names.Canonical, names.PrePitr(stamp, s.RunId)], await s.DatabasesOfAsync(s.Live, slug));
        Assert.True(await AllowsConnectionsAsync(s, names.Canonical));
    }

    [Fact]
    public async Task CutOverAsync_LiveDatabaseMissing_RefusesAndChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        await s.ExecAsync(s.Live, "postgres", $"ALTER DATABASE {PgQuote.Identifier(names.Canonical)} RENAME TO {PgQuote.Identifier(names.Canonical + "_lost")}");
        try
        {
            var error = await Assert.ThrowsAsync<DatabaseStateConflictException>(
                () => s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None));

            Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
            Assert.Contains(names.Restore(stamp, s.RunId), await s.DatabasesOfAsync(s.Live, slug));
        }
        finally
        {
            await s.ExecAsync(s.Live, "postgres", $"ALTER DATABASE {PgQuote.Identifier(names.Canonical + "_lost")} RENAME TO {PgQuote.Identifier(names.Canonical)}");
        }
    }

    [Fact]
    public async Task CutOverAsync_KeptNameTakenByEarlierRun_RefusesAndChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(names.PrePitr(stamp, s.RunId))}");
        var before = await s.DatabasesOfAsync(s.Live, slug);
        var livePrint = await s.FingerprintAsync(s.Live, names.Canonical);

        var error = await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None));

        Assert.Contains(names.PrePitr(stamp, s.RunId), error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await s.DatabasesOfAsync(s.Live, slug));
        Assert.Equal(livePrint, await s.FingerprintAsync(s.Live, names.Canonical));
    }

    [Fact]
    public async Task CutOverAsync_RestoreNotLoaded_RefusesAndChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 2);
        var names = TenantDatabaseNames.For(TenantSlug.Parse(slug));
        var stamp = RestoreStamp.Parse(TestData.Stamp);
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(names.Restore(stamp, s.RunId))}");
        await s.ExecAsync(s.Live, "postgres", $"COMMENT ON DATABASE {PgQuote.Identifier(names.Restore(stamp, s.RunId))} IS 'rcm-pitr:loading run={s.RunId} stamp={TestData.Stamp}'");

        await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None));

        Assert.Equal([names.Canonical, names.Restore(stamp, s.RunId)], await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task RollBackAsync_AfterSwap_PutsThePreviousDatabaseBackAndParksTheRestore()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        var originalPrint = await s.FingerprintAsync(s.Live, names.Canonical);
        var restoredPrint = await s.FingerprintAsync(s.Live, names.Restore(stamp, s.RunId));
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);
        var input = new RollbackSwapInput(s.RunId, s.Live, slug, TestData.Stamp);

        var first = await s.Swap.RollBackAsync(input, CancellationToken.None);
        var second = await s.Swap.RollBackAsync(input, CancellationToken.None);

        Assert.False(first.AlreadyDone);
        Assert.True(second.AlreadyDone);
        Assert.Equal(originalPrint, await s.FingerprintAsync(s.Live, names.Canonical));
        Assert.Equal(restoredPrint, await s.FingerprintAsync(s.Live, names.Rollback(stamp, s.RunId)));
        Assert.Equal([names.Canonical, names.Rollback(stamp, s.RunId)], await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task RollBackAsync_SecondRenameFails_TheFirstIsUndoneAndARetryFinishes()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        var originalPrint = await s.FingerprintAsync(s.Live, names.Canonical);
        var restoredPrint = await s.FingerprintAsync(s.Live, names.Restore(stamp, s.RunId));
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);
        var input = new RollbackSwapInput(s.RunId, s.Live, slug, TestData.Stamp);

        await FailSecondRenameAsync(s, names.PrePitr(stamp, s.RunId), () => s.Swap.RollBackAsync(input, CancellationToken.None));

        Assert.Equal(restoredPrint, await s.FingerprintAsync(s.Live, names.Canonical));
        Assert.True(await AllowsConnectionsAsync(s, names.Canonical));
        var retried = await s.Swap.RollBackAsync(input, CancellationToken.None);
        Assert.False(retried.AlreadyDone);
        Assert.Equal(originalPrint, await s.FingerprintAsync(s.Live, names.Canonical));
        Assert.Equal($"rcm-pitr:parked run={s.RunId} stamp={TestData.Stamp}", await CommentAsync(s, names.Rollback(stamp, s.RunId)));
    }

    [Fact]
    public async Task RollBackAsync_ParkedNameTaken_RefusesAndChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(names.Rollback(stamp, s.RunId))}");
        var before = await s.DatabasesOfAsync(s.Live, slug);

        var error = await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => s.Swap.RollBackAsync(new RollbackSwapInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None));

        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task RollBackAsync_LiveReplacedSinceTheRestore_RefusesAndChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, _) = await PrepareAsync(s);
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);
        await s.ExecAsync(s.Live, "postgres", $"COMMENT ON DATABASE {PgQuote.Identifier(names.Canonical)} IS 'rcm-pitr:loaded run=a-later-run stamp={TestData.Stamp}'");
        var before = await s.DatabasesOfAsync(s.Live, slug);

        var error = await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => s.Swap.RollBackAsync(new RollbackSwapInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None));

        Assert.Contains("replaced since", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task RollBackAsync_KeptDatabaseNotTheRuns_RefusesAndChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);
        await s.ExecAsync(s.Live, "postgres", $"COMMENT ON DATABASE {PgQuote.Identifier(names.PrePitr(stamp, s.RunId))} IS NULL");

        await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => s.Swap.RollBackAsync(new RollbackSwapInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None));

        Assert.Equal([names.Canonical, names.PrePitr(stamp, s.RunId)], await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task RollBackAsync_KeptDatabaseGone_RefusesAndChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);
        await s.Dropper.DropAsync(new DropDerivedDatabaseInput(s.RunId, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.PrePitr), CancellationToken.None);

        await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => s.Swap.RollBackAsync(new RollbackSwapInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None));

        Assert.Equal([names.Canonical], await s.DatabasesOfAsync(s.Live, slug));
    }

    internal static async Task<(string Slug, TenantDatabaseNames Names, RestoreStamp Stamp)> PrepareAsync(Scenario s)
    {
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 6, pitrMembers: 9);
        await Restores.DumpAndLoadAsync(s, slug);
        return (slug, TenantDatabaseNames.For(TenantSlug.Parse(slug)), RestoreStamp.Parse(TestData.Stamp));
    }

    /// <summary>
    /// Runs <paramref name="swap"/> while another session holds an uncommitted catalog update of <paramref name="secondRenamed"/>:
    /// the swap's first rename succeeds, its second waits on that row and fails once the other session commits. The swap
    /// must then fail as a whole.
    /// </summary>
    private static async Task FailSecondRenameAsync(Scenario s, string secondRenamed, Func<Task> swap)
    {
        await using var held = await HoldSecondRenameAsync(s, secondRenamed, async () =>
        {
            await swap();
            return true;
        });
        await held.CommitBlockerAsync();
        await Assert.ThrowsAsync<PostgresException>(() => held.Swap);
    }

    private static async Task<HeldSwap<T>> HoldSecondRenameAsync<T>(Scenario s, string secondRenamed, Func<Task<T>> swap)
    {
        var blocker = await s.Connector.OpenMaintenanceAsync(s.Live, CancellationToken.None);
        var transaction = await blocker.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var update = new NpgsqlCommand($"ALTER DATABASE {PgQuote.Identifier(secondRenamed)} WITH ALLOW_CONNECTIONS true", blocker, transaction))
        {
            await update.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var running = swap();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await s.ScalarAsync<long>(s.Live, "postgres",
                   "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%RENAME TO%'", PgQuote.Identifier(secondRenamed)) == 0)
        {
            Assert.False(running.IsCompleted, "the swap ended before its second rename waited");
            await Task.Delay(50, timeout.Token);
        }

        return new HeldSwap<T>(blocker, transaction, running);
    }

    private sealed class HeldSwap<T>(NpgsqlConnection blocker, NpgsqlTransaction transaction, Task<T> swap) : IAsyncDisposable
    {
        public Task<T> Swap => swap;

        public Task CommitBlockerAsync() => transaction.CommitAsync();

        public Task ReleaseAsync() => transaction.RollbackAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await blocker.DisposeAsync();
        }
    }

    private static async Task<bool> AllowsConnectionsAsync(Scenario s, string database) =>
        await s.ScalarAsync<bool>(s.Live, "postgres", "SELECT datallowconn FROM pg_database WHERE datname = $1", database);

    private static async Task<string?> CommentAsync(Scenario s, string database)
    {
        await using var connection = await s.Connector.OpenMaintenanceAsync(s.Live, CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = database });
        return await command.ExecuteScalarAsync(CancellationToken.None) as string;
    }
}
