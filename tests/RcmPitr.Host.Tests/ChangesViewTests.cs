using System.Text.Json;
using RcmPitr.Cli;

namespace RcmPitr.Host.Tests;

public sealed class ChangesViewTests
{
    [Fact]
    public void Print_KeysAndTableNamesWithControlCharacters_AreShownEscapedNeverSentToTheTerminal()
    {
        var report = JsonSerializer.Deserialize<JsonElement>(
            """
            {"liveDatabase":"tenant_acme","copyDatabase":"tenant_acme_restore_x","computedAt":"2026-12-02T05:00:00Z","seconds":1.0,"partial":false,
             "onlyInLive":1,"onlyInCopy":0,"different":0,
             "tables":[{"table":"public.t\u001b]0;x\u0007","matchedBy":"primary key","keyColumns":["k"],"liveRows":1,"copyRows":0,
               "onlyInLive":1,"onlyInCopy":0,"different":0,"partial":false,"changed":true,
               "samples":{"onlyInLive":[["a\u001b[31mred"]],"onlyInCopy":[],"different":[]},"samplesTruncated":false}]}
            """);
        var output = new StringWriter();

        ChangesView.Print(output, report, samplesShown: 5);

        var text = output.ToString();
        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\u0007', text);
        Assert.Contains("(a\\u001b[31mred)", text, StringComparison.Ordinal);
        Assert.Contains("public.t\\u001b]0;x\\u0007", text, StringComparison.Ordinal);
    }
}
