using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Parity;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class ParityProbeTests(ClusterFixture fx)
{
    [Fact]
    public async Task ProbeAsync_LiveGrewAfterT_PassesWithEveryNumber()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 12, pitrMembers: 10);
        await Restores.DumpAndLoadAsync(s, slug);

        var report = await s.Parity.ProbeAsync(new ParityProbeInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);

        Assert.Equal(ParityVerdict.Pass, report.Verdict);
        Assert.Equal(["identity.organization", "security.app_user", "members.member"], report.Rows.Select(r => r.Table));
        var members = report.Rows.Single(r => r.Table == "members.member");
        Assert.Equal(12L, members.LiveCount);
        Assert.Equal(10L, members.RestoredCount);
    }

    [Fact]
    public async Task ProbeAsync_RowsDeletedAfterT_Warns()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 4, pitrMembers: 10);
        await Restores.DumpAndLoadAsync(s, slug);

        var report = await s.Parity.ProbeAsync(new ParityProbeInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);

        Assert.Equal(ParityVerdict.Warn, report.Verdict);
    }

    [Fact]
    public async Task ProbeAsync_RestoredCopyEmpty_Fails()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 10, pitrMembers: 0);
        await Restores.DumpAndLoadAsync(s, slug);

        var report = await s.Parity.ProbeAsync(new ParityProbeInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);

        Assert.Equal(ParityVerdict.Fail, report.Verdict);
        Assert.Equal(0L, report.Rows.Single(r => r.Table == "members.member").RestoredCount);
    }

    [Fact]
    public async Task ProbeAsync_ConfiguredCanaryMissing_FailsAndNamesIt()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        await Restores.DumpAndLoadAsync(s, slug);

        var report = await s.Parity.ProbeAsync(
            new ParityProbeInput(s.RunId, s.Live, slug, TestData.Stamp, CanaryTables: ["members.member", "claims.claim"]), CancellationToken.None);

        Assert.Equal(ParityVerdict.Fail, report.Verdict);
        var claims = report.Rows.Single(r => r.Table == "claims.claim");
        Assert.Null(claims.LiveCount);
        Assert.Null(claims.RestoredCount);
    }

    [Fact]
    public async Task ProbeAsync_NoRestoredDatabase_Throws()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3);

        await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => s.Parity.ProbeAsync(new ParityProbeInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None));
    }
}
