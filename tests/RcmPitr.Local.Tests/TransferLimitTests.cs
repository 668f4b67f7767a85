using RcmPitr.Cli.Bench;

namespace RcmPitr.Local.Tests;

/// <summary>The transfer benchmark's limit arithmetic: the critical path through copies, builds, attaches and foreign keys, and the work bound.</summary>
public sealed class TransferLimitTests
{
    private static LimitItem Item(string kind, string name, string table, double wall, double? cpu = null, string? references = null, string? key = null) =>
        new(kind, name, table, wall, cpu ?? wall, references, key);

    private static List<LimitItem> Claims(double memberCopy) =>
    [
        Item(LimitItem.Copy, "c.claim", "c.claim", 3.0, cpu: 5.0),
        Item(LimitItem.Index, "claim_pkey", "c.claim", 0.9),
        Item(LimitItem.Index, "claim_payload", "c.claim", 10.0),
        Item(LimitItem.Index, "claim_member", "c.claim", 0.8),
        Item(LimitItem.Attach, "claim_pkey", "c.claim", 0.1),
        Item(LimitItem.ForeignKey, "claim_member_fkey", "c.claim", 0.6, references: "m.member", key: "member_pkey"),
        Item(LimitItem.Copy, "m.member", "m.member", memberCopy),
        Item(LimitItem.Index, "member_pkey", "m.member", 0.2),
        Item(LimitItem.Attach, "member_pkey", "m.member", 0.05),
    ];

    [Fact]
    public void Compute_TheLongestBuildOfTheBiggestTable_IsOnThePathWithItsAttachAndForeignKey()
    {
        var limit = TransferLimit.Compute(schemaSeconds: 0.5, cores: 2, Claims(memberCopy: 1.0));

        // Copy, then the longest of the table's builds (they may run side by side), then the attach and the foreign key, one after the other.
        Assert.Equal(3.0 + 10.0 + 0.1 + 0.6, limit.CriticalPathSeconds, 9);
        Assert.Equal(["copy c.claim", "index claim_payload on c.claim", "attach claim_pkey on c.claim", "foreign key claim_member_fkey on c.claim"], limit.CriticalPath.Select(s => s.Item));
        var work = 5.0 + 0.9 + 10.0 + 0.8 + 0.1 + 0.6 + 1.0 + 0.2 + 0.05;
        Assert.Equal(work, limit.WorkCpuSeconds, 9);
        Assert.Equal(0.5 + Math.Max(13.7, work / 2), limit.LimitSeconds, 9);
        Assert.Equal(0.5 + (work / 2) + 13.7, limit.GrahamUpperSeconds, 9);
    }

    [Fact]
    public void Compute_AForeignKeyWaitsForTheKeyItReferences_OnTheOtherTable()
    {
        var limit = TransferLimit.Compute(schemaSeconds: 0, cores: 2, Claims(memberCopy: 20.0));

        Assert.Equal(20.0 + 0.2 + 0.05 + 0.6, limit.CriticalPathSeconds, 9);
        Assert.Equal(["copy m.member", "index member_pkey on m.member", "attach member_pkey on m.member", "foreign key claim_member_fkey on c.claim"], limit.CriticalPath.Select(s => s.Item));
    }

    [Fact]
    public void Compute_WhenTheWorkDoesNotFitBesideThePath_TheWorkBinds()
    {
        List<LimitItem> items =
        [
            Item(LimitItem.Copy, "a", "a", 2.0, cpu: 4.0),
            Item(LimitItem.Copy, "b", "b", 2.0, cpu: 4.0),
            Item(LimitItem.Copy, "c", "c", 2.0, cpu: 4.0),
            Item(LimitItem.Constraint, "c_excl", "c", 1.0),
        ];

        var limit = TransferLimit.Compute(schemaSeconds: 1.0, cores: 2, items);

        Assert.Equal(3.0, limit.CriticalPathSeconds, 9);
        Assert.Equal(13.0, limit.WorkCpuSeconds, 9);
        Assert.Equal(1.0 + 6.5, limit.LimitSeconds, 9);
        Assert.Equal(1.0 + 6.5 + 3.0, limit.GrahamUpperSeconds, 9);
    }

    [Fact]
    public void Medians_EachItemTakesItsMiddleWallAndCpuOverThePasses_ACopyWhateverFormWonInEachPass()
    {
        List<IReadOnlyList<LimitItem>> passes =
        [
            [Item(LimitItem.Copy, "c.claim in 2 page ranges", "c.claim", 4.0, cpu: 7.0), Item(LimitItem.Index, "claim_payload", "c.claim", 9.0, cpu: 8.9)],
            [Item(LimitItem.Copy, "c.claim", "c.claim", 5.0, cpu: 6.0), Item(LimitItem.Index, "claim_payload", "c.claim", 12.0, cpu: 11.5)],
            [Item(LimitItem.Copy, "c.claim in 2 page ranges", "c.claim", 3.5, cpu: 8.0), Item(LimitItem.Index, "claim_payload", "c.claim", 10.0, cpu: 9.8)],
        ];

        var medians = TransferLimit.Medians(passes);

        Assert.Equal(2, medians.Count);
        Assert.Equal(("c.claim in 2 page ranges", 4.0, 7.0), (medians[0].Name, medians[0].WallSeconds, medians[0].CpuSeconds));
        Assert.Equal(("claim_payload", 10.0, 9.8), (medians[1].Name, medians[1].WallSeconds, medians[1].CpuSeconds));
        Assert.Equal(LimitItem.Index, medians[1].Kind);
    }

    [Fact]
    public void Medians_PassesThatMeasuredDifferentItems_AreRefused()
    {
        List<IReadOnlyList<LimitItem>> passes =
        [
            [Item(LimitItem.Index, "claim_payload", "c.claim", 9.0)],
            [Item(LimitItem.Index, "claim_member", "c.claim", 1.0)],
        ];

        Assert.Throws<InvalidOperationException>(() => TransferLimit.Medians(passes));
    }

    [Fact]
    public void Median_OfAnEvenCount_IsTheMeanOfTheMiddleTwo()
    {
        Assert.Equal(2.5, BenchStatistics.Median([4.0, 1.0, 3.0, 2.0]), 9);
        Assert.Equal(3.0, BenchStatistics.Median([5.0, 3.0, 1.0]), 9);
        Assert.Throws<ArgumentException>(() => BenchStatistics.Median([]));
    }

    [Fact]
    public void SpanInRun_FindsEachKindOfItemByTheStreamingModesLabels()
    {
        static (TimeSpan, string) At(double seconds, string what) => (TimeSpan.FromSeconds(seconds), what);
        List<(TimeSpan At, string What)> events =
        [
            At(0.3, "copy start data \"claims\".\"claim\" pages 0-100"),
            At(0.4, "copy start data \"claims\".\"claim_event\""),
            At(0.35, "copy start data \"claims\".\"claim\" pages 100-end"),
            At(2.0, "copy end data \"claims\".\"claim\" pages 0-100"),
            At(3.5, "copy end data \"claims\".\"claim\" pages 100-end"),
            At(3.5, "build start index \"claims\".\"claim_payload\""),
            At(3.6, "build start unique index for constraint \"claim_pkey\" of \"claims\".\"claim\""),
            At(4.0, "build end unique index for constraint \"claim_pkey\" of \"claims\".\"claim\""),
            At(12.5, "build end index \"claims\".\"claim_payload\""),
            At(12.5, "build start attach 1 constraint(s) of \"claims\".\"claim\""),
            At(12.6, "build end attach 1 constraint(s) of \"claims\".\"claim\""),
            At(12.6, "build start foreign key \"claim_member_id_fkey\" of \"claims\".\"claim\""),
            At(13.2, "build end foreign key \"claim_member_id_fkey\" of \"claims\".\"claim\""),
        ];

        Assert.Equal(3.2, TransferBenchmark.SpanInRun(Item(LimitItem.Copy, "claims.claim in 2 page ranges", "claims.claim", 1), events)!.Value, 9);
        Assert.Equal(9.0, TransferBenchmark.SpanInRun(Item(LimitItem.Index, "claim_payload", "claims.claim", 1), events)!.Value, 9);
        Assert.Equal(0.4, TransferBenchmark.SpanInRun(Item(LimitItem.Index, "claim_pkey", "claims.claim", 1), events)!.Value, 9);
        Assert.Equal(0.1, TransferBenchmark.SpanInRun(Item(LimitItem.Attach, "claim_pkey", "claims.claim", 1), events)!.Value, 9);
        Assert.Equal(0.6, TransferBenchmark.SpanInRun(Item(LimitItem.ForeignKey, "claim_member_id_fkey", "claims.claim", 1), events)!.Value, 9);
        Assert.Null(TransferBenchmark.SpanInRun(Item(LimitItem.Index, "claim_submitted", "claims.claim", 1), events));
        Assert.Null(TransferBenchmark.SpanInRun(Item(LimitItem.Copy, "claims.claim_event", "claims.claim_event", 1), events));
    }
}
