using RcmPitr.Api;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Host.Tests;

public sealed class ChangeReportCsvTests
{
    private static readonly DateTime At = new(2026, 12, 2, 5, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Write_KeysOfEveryCategory_OneLinePerKeyWithAColumnPerKeyValue()
    {
        var report = new ChangeReport("run-1", "tenant_acme", "tenant_acme_restore_x", At, 1.5, false,
        [
            Table("members.member", ["member_id"], new([["41"], ["42"]], [["7"]], [["9"]])),
            Table("billing.claim_line", ["claim_id", "line_no"], new([["c-1", "2"]], [], [])),
            new TableChanges("audit.event_log", TableMatch.RowHash, [], 10, 9, 1, 0, 0, false, ChangeSamples.None, false),
        ]);

        var csv = ChangeReportCsv.Write(report);

        Assert.Equal(
            "table,category,key_columns,key_1,key_2\r\n" +
            "billing.claim_line,only_in_live,claim_id|line_no,c-1,2\r\n" +
            "members.member,only_in_live,member_id,41\r\n" +
            "members.member,only_in_live,member_id,42\r\n" +
            "members.member,only_in_copy,member_id,7\r\n" +
            "members.member,different,member_id,9\r\n",
            csv);
    }

    [Theory]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"")]
    [InlineData("@cmd", "'@cmd")]
    [InlineData("-42", "-42")]
    [InlineData("+1e5", "+1e5")]
    public void Write_AKeyValue_IsQuotedAndNeverRunsAsAFormula(string key, string field)
    {
        var report = new ChangeReport("run-1", "tenant_acme", "copy", At, 1, false, [Table("public.t", ["k"], new([[key]], [], []))]);

        var lines = ChangeReportCsv.Write(report).Split("\r\n");

        Assert.Equal($"public.t,only_in_live,k,{field}", lines[1]);
    }

    private static TableChanges Table(string name, IReadOnlyList<string> keys, ChangeSamples samples) =>
        new(name, TableMatch.PrimaryKey, keys, 100, 100, samples.OnlyInLive.Count, samples.OnlyInCopy.Count, samples.Different.Count, false, samples, false);
}
