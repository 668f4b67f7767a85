using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Workflow.Tests.Contracts;

public sealed class ChangeReportTests
{
    [Fact]
    public void Summarize_SomeTablesChanged_TotalsEveryTableAndListsTheMostChangedFirst()
    {
        var report = Report(
            Table("public.a", live: 1, copy: 0, different: 0),
            Table("public.b", live: 0, copy: 0, different: 0),
            Table("public.c", live: 5, copy: 2, different: 3, partial: true),
            Table("public.d", live: 0, copy: 1, different: 0),
            Table("public.e", TableMatch.OnlyInCopy, copy: 0),
            Table("public.f", live: 0, copy: 0, different: 4));

        var summary = report.Summarize();

        Assert.Equal((6, 5, 6L, 3L, 7L), (summary.TablesCompared, summary.TablesChanged, summary.OnlyInLive, summary.OnlyInCopy, summary.Different));
        Assert.Equal(["public.c", "public.f", "public.a", "public.d", "public.e"], summary.Tables.Select(t => t.Table));
        Assert.True(summary.Tables[0].Partial);
        Assert.Equal(0, summary.TablesOmitted);
        Assert.Equal((report.Partial, report.Seconds), (summary.Partial, summary.Seconds));
    }

    [Fact]
    public void Summarize_MoreChangedTablesThanShown_CountsTheOmitted()
    {
        var report = Report(Table("s.x", live: 3), Table("s.y", live: 2), Table("s.z", live: 1));

        var summary = report.Summarize(maxTables: 2);

        Assert.Equal(["s.x", "s.y"], summary.Tables.Select(t => t.Table));
        Assert.Equal(1, summary.TablesOmitted);
    }

    [Fact]
    public void Summarize_EqualChanges_OrdersByTableName()
    {
        var report = Report(Table("s.b", live: 1), Table("s.a", copy: 1));

        Assert.Equal(["s.a", "s.b"], report.Summarize().Tables.Select(t => t.Table));
    }

    private static ChangeReport Report(params TableChanges[] tables) =>
        new("run-1", "tenant_acme", "tenant_acme_restore_20260422143010_3fa9c2", new DateTime(2026, 4, 22, 14, 40, 0, DateTimeKind.Utc), 2.5, tables.Any(t => t.Partial), tables);

    private static TableChanges Table(string name, string matchedBy, long live = 0, long copy = 0, long different = 0, bool partial = false) =>
        new(name, matchedBy, matchedBy == TableMatch.PrimaryKey ? ["id"] : [], 10, 10, live, copy, different, partial, ChangeSamples.None, false);

    private static TableChanges Table(string name, long live = 0, long copy = 0, long different = 0, bool partial = false) =>
        Table(name, TableMatch.PrimaryKey, live, copy, different, partial);
}
