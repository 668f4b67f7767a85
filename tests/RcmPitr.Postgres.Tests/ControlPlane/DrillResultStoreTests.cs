using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Drills;

namespace RcmPitr.Postgres.Tests.ControlPlane;

/// <summary>The drill results in a real master: references are passed results that counted something, never the drill itself.</summary>
public sealed class DrillResultStoreTests(ClusterFixture fx)
{
    private static readonly DateTimeOffset T1 = new(2026, 10, 1, 6, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset T2 = new(2027, 1, 1, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task References_SameTimeAndPrevious_AreTheNewestPassedResultsThatCountedSomething()
    {
        await using var s = await Scenario.StartAsync(fx);
        var store = new DrillResultStore(s.Master);
        await store.WriteAsync("drill-1", T1, Result("acme", passed: true, rows: 100), CancellationToken.None);
        await store.WriteAsync("drill-2", T1, Result("acme", passed: false, rows: 3), CancellationToken.None);
        // Passed, but nothing was counted: it verified nothing and must never be the reference.
        await store.WriteAsync("drill-3", T1, Result("acme", passed: true, rows: null), CancellationToken.None);
        await store.WriteAsync("drill-4", T1, Result("globex-health", passed: true, rows: 7), CancellationToken.None);

        var sameTime = await store.ReferencesAsync("acme", "drill-9", T1, CancellationToken.None);
        var later = await store.ReferencesAsync("acme", "drill-9", T2, CancellationToken.None);
        var itself = await store.ReferencesAsync("acme", "drill-1", T1, CancellationToken.None);

        Assert.Equal(("drill-1", 100L), (sameTime.SameTimeDrill, sameTime.SameTime!.Counts.Single().Rows!.Value));
        Assert.Null(sameTime.Previous);
        Assert.Equal(("drill-1", (string?)null), (later.PreviousDrill, later.SameTimeDrill));
        Assert.Null(itself.SameTime);
        Assert.Equal(2, (await store.HistoryAsync(["acme"], 2, CancellationToken.None)).Count);
        Assert.Equal((1, 1), (await store.CountsAsync(["drill-1", "drill-2"], CancellationToken.None)).Values.Aggregate((0, 0), (sum, c) => (sum.Item1 + c.Passed, sum.Item2 + c.Failed)));
    }

    private static DrillTenantResult Result(string tenant, bool passed, long? rows) => new(
        tenant, $"restore-{tenant}--x", "pg-local", passed, passed ? "dry run completed" : "failed", null, null, 12.5, [], 4096, "Pass",
        rows is null ? [] : [new DrillCount("members.member", rows)], new DrillReference("none", null, true, "no reference yet"));
}
