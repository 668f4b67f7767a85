using RcmPitr.Workflow.Parity;

namespace RcmPitr.Workflow.Tests.Parity;

public sealed class ParityRulesTests
{
    private readonly ParityRules _rules = new();

    [Theory]
    [InlineData(100L, 100L, ParityVerdict.Pass)]
    [InlineData(120L, 100L, ParityVerdict.Pass)]
    [InlineData(0L, 0L, ParityVerdict.Pass)]
    [InlineData(100L, 0L, ParityVerdict.Fail)]
    [InlineData(10_000L, 99L, ParityVerdict.Fail)]
    [InlineData(9_999L, 100L, ParityVerdict.Pass)]
    [InlineData(90L, 100L, ParityVerdict.Warn)]
    [InlineData(0L, 100L, ParityVerdict.Warn)]
    [InlineData(1L, 1_000L, ParityVerdict.Warn)]
    public void Judge_Counts_FollowsTheRunbook(long live, long restored, ParityVerdict expected)
    {
        var row = _rules.Judge("members.member", live, restored);

        Assert.Equal(expected, row.Verdict);
        Assert.Equal(live, row.LiveCount);
        Assert.Equal(restored, row.RestoredCount);
        Assert.False(string.IsNullOrWhiteSpace(row.Note));
    }

    [Fact]
    public void Judge_TableMissingFromRestored_Fails() =>
        Assert.Equal(ParityVerdict.Fail, _rules.Judge("x.y", 5, null).Verdict);

    [Fact]
    public void Judge_TableMissingFromLive_Warns() =>
        Assert.Equal(ParityVerdict.Warn, _rules.Judge("x.y", null, 5).Verdict);

    [Fact]
    public void Judge_TableMissingEverywhere_Fails() =>
        Assert.Equal(ParityVerdict.Fail, _rules.Judge("x.y", null, null).Verdict);

    [Fact]
    public void Judge_CustomFactor_IsHonoured()
    {
        var strict = new ParityRules(OrdersOfMagnitudeFactor: 10);

        Assert.Equal(ParityVerdict.Fail, strict.Judge("t.t", 1_000, 99).Verdict);
        Assert.Equal(ParityVerdict.Pass, _rules.Judge("t.t", 1_000, 99).Verdict);
    }

    [Fact]
    public void Judge_FactorNotAboveOne_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParityRules(1).Judge("t.t", 1, 1));

    [Fact]
    public void Report_Verdict_IsTheWorstRow()
    {
        var rows = new[] { _rules.Judge("a.a", 1, 1), _rules.Judge("b.b", 1, 2), _rules.Judge("c.c", 5, 0) };

        var report = ParityReport.From("tenant_x", "tenant_x_restore_202604221430", rows);

        Assert.Equal(ParityVerdict.Fail, report.Verdict);
        Assert.Equal(3, report.Rows.Count);
    }

    [Fact]
    public void Report_NoRows_Fails() =>
        Assert.Equal(ParityVerdict.Fail, ParityReport.From("a", "b", []).Verdict);
}
