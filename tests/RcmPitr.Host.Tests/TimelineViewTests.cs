using System.Text.Json;
using RcmPitr.Cli;

namespace RcmPitr.Host.Tests;

/// <summary><c>status --wait</c> prints each decision once, whatever order or length the status lists them in, and the transfer's share, rate and time left.</summary>
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

    [Fact]
    public void Render_TransferWithTotalAndThroughput_PrintsTheShareTheRateAndTheTimeLeft()
    {
        var output = new StringWriter();
        var view = new TimelineView(output);
        var at = new DateTime(2026, 4, 22, 12, 3, 31, DateTimeKind.Utc);

        view.Render("run-1", Transfer(new
        {
            mode = "streaming", phase = "data", tablesDone = 2, tablesTotal = 5, bytesMoved = 412L * 1048576, startedAt = at, updatedAt = at, progressedAt = at,
            error = (string?)null, bytesTotal = 1019L * 1048576, bytesPerSecond = 64277709L, mbPerSecond = 61.3, estimatedFinishAt = at.AddSeconds(10), secondsRemaining = 10L,
        }));
        view.Render("run-1", Transfer(new
        {
            mode = "streaming", phase = "done", tablesDone = 5, tablesTotal = 5, bytesMoved = 1019L * 1048576, startedAt = at, updatedAt = at, progressedAt = at,
            error = (string?)null, bytesTotal = 1019L * 1048576, bytesPerSecond = 64277709L, mbPerSecond = 61.3, estimatedFinishAt = (DateTime?)null, secondsRemaining = (long?)null,
        }));

        Assert.Equal(
            ["    transfer (streaming): data, 2/5 tables, 412/1019 MB (40 %), 61.3 MB/s, about 10 s left (ETA 12:03:41Z)",
             "    transfer (streaming): done, 5/5 tables, 1019/1019 MB (100 %), 61.3 MB/s"],
            Lines(output));
    }

    [Theory]
    [InlineData(0, "0 s")]
    [InlineData(89, "89 s")]
    [InlineData(90, "2 min")]
    [InlineData(5399, "90 min")]
    [InlineData(5400, "1 h 30 min")]
    [InlineData(7199, "2 h 00 min")]
    public void Remaining_Seconds_ReadAsAPersonWould(long seconds, string text) => Assert.Equal(text, TimelineView.Remaining(seconds));

    [Fact]
    public void Render_TransferWithoutTheEstimatesFields_PrintsAsBefore()
    {
        var output = new StringWriter();
        var at = new DateTime(2026, 4, 22, 12, 3, 31, DateTimeKind.Utc);

        new TimelineView(output).Render("run-1", Transfer(new
        {
            mode = "parallel", phase = "dump", tablesDone = 0, tablesTotal = 0, bytesMoved = 3L * 1048576, startedAt = at, updatedAt = at, progressedAt = at, error = (string?)null,
        }));

        Assert.Equal(["    transfer (parallel): dump, 3.0 MB"], Lines(output));
    }

    private static JsonElement Transfer(object transfer) => JsonSerializer.SerializeToElement(new { customStatus = new { transfer } });

    private static object Decision(int second, string by, bool accepted) =>
        new { at = new DateTime(2026, 4, 22, 14, 30, 0, DateTimeKind.Utc).AddSeconds(second), by, decision = "approve", accepted };

    private static JsonElement Status(IReadOnlyList<object> decisions) =>
        JsonSerializer.SerializeToElement(new { customStatus = new { decisions } });

    private static string[] Lines(StringWriter output) => output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
}
