using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class DerivedDatabaseDropperTests(ClusterFixture fx)
{
    [Fact]
    public async Task DropAsync_PrePitrAfterSwap_DropsItOnceThenReportsGone()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await SwapCutoverTests.PrepareAsync(s);
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);
        var input = new DropDerivedDatabaseInput(s.RunId, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.PrePitr);

        var first = await s.Dropper.DropAsync(input, CancellationToken.None);
        var second = await s.Dropper.DropAsync(input, CancellationToken.None);

        Assert.True(first.Dropped);
        Assert.False(second.Dropped);
        Assert.Equal(names.PrePitr(stamp, s.RunId), first.DatabaseName);
        Assert.Equal([names.Canonical], await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task DropAsync_PrePitrWhileLiveMissing_IsRefused()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (slug, names, stamp) = await SwapCutoverTests.PrepareAsync(s);
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);
        await s.ExecAsync(s.Live, "postgres", $"ALTER DATABASE {PgQuote.Identifier(names.Canonical)} RENAME TO {PgQuote.Identifier(names.Canonical + "_away")}");
        try
        {
            await Assert.ThrowsAsync<DatabaseStateConflictException>(
                () => s.Dropper.DropAsync(new DropDerivedDatabaseInput(s.RunId, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.PrePitr), CancellationToken.None));

            Assert.Contains(names.PrePitr(stamp, s.RunId), await s.DatabasesOfAsync(s.Live, slug));
        }
        finally
        {
            await s.ExecAsync(s.Live, "postgres", $"ALTER DATABASE {PgQuote.Identifier(names.Canonical + "_away")} RENAME TO {PgQuote.Identifier(names.Canonical)}");
        }
    }

    [Theory]
    [InlineData(DerivedDatabaseKind.PrePitr, "rcm-pitr:kept run=a-later-run stamp=20260422143000")]
    [InlineData(DerivedDatabaseKind.PrePitr, null)]
    [InlineData(DerivedDatabaseKind.PrePitr, "rcm-pitr:loaded run={run} stamp=20260422143000")]
    [InlineData(DerivedDatabaseKind.Restore, "rcm-pitr:loaded run=other-run stamp=20260422143000")]
    [InlineData(DerivedDatabaseKind.Restore, null)]
    [InlineData(DerivedDatabaseKind.Rollback, null)]
    [InlineData(DerivedDatabaseKind.AsOf, null)]
    public async Task DropAsync_DatabaseWithoutThisRunsMarker_IsLeftAndReported(DerivedDatabaseKind kind, string? comment)
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3);
        var name = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Derived(kind, RestoreStamp.Parse(TestData.Stamp), s.RunId);
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(name)}");
        if (comment is not null)
        {
            await s.ExecAsync(s.Live, "postgres", $"COMMENT ON DATABASE {PgQuote.Identifier(name)} IS {PgQuote.Literal(comment.Replace("{run}", s.RunId, StringComparison.Ordinal))}");
        }

        var result = await s.Dropper.DropAsync(new DropDerivedDatabaseInput(s.RunId, s.Live, slug, TestData.Stamp, kind), CancellationToken.None);

        Assert.False(result.Dropped);
        Assert.Contains("not run", result.NotOurs, StringComparison.Ordinal);
        Assert.Contains(name, await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task DropAsync_OwnRestoreWithOpenSession_DropsItAndLeavesCanonical()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        var restored = await Restores.DumpAndLoadAsync(s, slug);
        await using var session = await s.Connector.OpenAsync(s.Live, restored.DatabaseName, CancellationToken.None);

        var result = await s.Dropper.DropAsync(new DropDerivedDatabaseInput(s.RunId, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.Restore), CancellationToken.None);

        Assert.True(result.Dropped);
        Assert.Equal([tenant.DatabaseName], await s.DatabasesOfAsync(s.Live, slug));
    }
}
