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
    public async Task CutOverAsync_CrashBetweenRenames_RerunFinishesTheSwap()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        var restoredPrint = await s.FingerprintAsync(s.Live, names.Restore(stamp, s.RunId));
        // The state a non-atomic swap leaves when it dies after the first rename.
        await RenameAsync(s, names.Canonical, names.PrePitr(stamp, s.RunId));

        var result = await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);

        Assert.False(result.AlreadyDone);
        Assert.Equal(restoredPrint, await s.FingerprintAsync(s.Live, names.Canonical));
        Assert.Equal([names.Canonical, names.PrePitr(stamp, s.RunId)], await s.DatabasesOfAsync(s.Live, slug));
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
    public async Task RollBackAsync_CrashBetweenRenames_RerunFinishes()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await PrepareAsync(s);
        var originalPrint = await s.FingerprintAsync(s.Live, names.Canonical);
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);
        await RenameAsync(s, names.Canonical, names.Rollback(stamp, s.RunId));

        var result = await s.Swap.RollBackAsync(new RollbackSwapInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);

        Assert.False(result.AlreadyDone);
        Assert.Equal(originalPrint, await s.FingerprintAsync(s.Live, names.Canonical));
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

    private static Task RenameAsync(Scenario s, string from, string to) =>
        s.ExecAsync(s.Live, "postgres", $"ALTER DATABASE {PgQuote.Identifier(from)} RENAME TO {PgQuote.Identifier(to)}");
}
