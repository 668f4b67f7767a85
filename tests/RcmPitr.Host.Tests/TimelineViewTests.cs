using System.Text.Json;
using RcmPitr.Cli;

namespace RcmPitr.Host.Tests;

/// <summary><c>status --wait</c> prints each decision once, whatever order or length the status lists them in.</summary>
public sealed class TimelineViewTests
{
    [Fact]
    public void Render_DecisionListShortenedFromTheFront_PrintsTheNewDecisionOnce()
    {
        var output = new StringWriter();
        var view = new TimelineView(output);
        var refused = Enumerable.Range(0, 20).Select(i => Decision(i, "alice", accepted: false)).ToList();
        view.Render("run-1", Status(refused));
        var before = Lines(output).Length;

        // The run's status keeps only the latest refused attempts once the list grows long, and then bob decides.
        view.Render("run-1", Status([.. refused.TakeLast(5), Decision(60, "bob", accepted: true)]));

        var added = Lines(output).Skip(before).ToList();
        Assert.Equal(20, before);
        Assert.Equal(["    decision: approve by bob accepted"], added);
    }

    [Fact]
    public void Render_RefusedAttemptMergedInBeforeAPrintedOne_PrintsItOnceAndNothingTwice()
    {
        var output = new StringWriter();
        var view = new TimelineView(output);
        view.Render("run-1", Status([Decision(30, "alice", accepted: false)]));

        view.Render("run-1", Status([Decision(10, "mallory", accepted: false), Decision(30, "alice", accepted: false)]));
        view.Render("run-1", Status([Decision(10, "mallory", accepted: false), Decision(30, "alice", accepted: false)]));

        Assert.Equal(["    decision: approve by alice refused", "    decision: approve by mallory refused"], Lines(output));
    }

    private static object Decision(int second, string by, bool accepted) =>
        new { at = new DateTime(2026, 4, 22, 14, 30, 0, DateTimeKind.Utc).AddSeconds(second), by, decision = "approve", accepted };

    private static JsonElement Status(IReadOnlyList<object> decisions) =>
        JsonSerializer.SerializeToElement(new { customStatus = new { decisions } });

    private static string[] Lines(StringWriter output) => output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
}
