using Npgsql;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tests.Fixtures;

namespace RcmPitr.Postgres.Tests.Movers;

/// <summary>
/// When the streaming move slows its copies beside a GIN build: only while what is left of them ends well before the
/// build's estimated end, never without a trusted estimate — and the estimate comes from a real build's progress.
/// </summary>
public sealed class CopyPacerTests(ClusterFixture fx)
{
    private const long Mb = 1048576;

    [Theory]
    // GIN: 40 % after 4 s, 6 s left. 100 MB at 50 MB/s paced 1.5x: 3 s. Spare 6 * 0.9 - 0.5 - 3 = 1.9 s.
    [InlineData(4.0, 0.4, 100, 50, 0.0, 1, 1.9)]
    // Three times the data: 9 s of paced copying, more than the GIN has left.
    [InlineData(4.0, 0.4, 300, 50, 0.0, 1, -4.1)]
    // The builds still to run count: 2 s of them.
    [InlineData(4.0, 0.4, 100, 50, 2.0, 1, -0.1)]
    // Two workers share the work left.
    [InlineData(4.0, 0.4, 300, 50, 0.0, 2, 0.4)]
    // Builds whose time is not known yet: no spare.
    [InlineData(4.0, 0.4, 100, 50, double.PositiveInfinity, 2, double.NegativeInfinity)]
    public void Spare_WeighsTheCopiesAndBuildsLeftAgainstTheGinsEstimatedEnd(double ginElapsed, double fraction, long mbLeft, double mbPerSecond, double buildSeconds, int workers, double expected)
    {
        var spare = CopyPacer.Spare(ginElapsed, fraction, mbLeft * Mb, mbPerSecond * Mb, buildSeconds, workers, factor: 0.5);

        Assert.Equal(expected, spare, precision: 6);
    }

    [Theory]
    [InlineData(0.01, 4.0)] // under 2 % of the scan
    [InlineData(0.5, 0.2)] // under half a second
    [InlineData(0.0, 10.0)] // no progress read
    public void Spare_WithoutATrustedEstimate_IsNone(double fraction, double ginElapsed) =>
        Assert.Equal(double.NegativeInfinity, CopyPacer.Spare(ginElapsed, fraction, 1, 1e9, 0, 1, 0.5));

    [Fact]
    public void PauseAfter_PacesOnlyWhileAGinBuildRunsWithTimeToSpare_AndSaysWhenItStartsAndStops()
    {
        var clock = new TestClock();
        var notes = new List<string>();
        var pacer = new CopyPacer(0.5, workers: 2, clock) { Note = notes.Add };
        pacer.SetTotalBytes(108 * Mb);

        Assert.Equal(TimeSpan.Zero, pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80)));
        pacer.GinStarted(backend: 4242);
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(TimeSpan.Zero, pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80)));

        pacer.GinProgress(4242, 0.4);
        // 96 MB left at 50 MB/s paced: 2.9 s, well inside the GIN's 6 s.
        Assert.Equal(TimeSpan.FromMilliseconds(40), pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80)));

        pacer.GinEnded(4242);
        Assert.Equal(TimeSpan.Zero, pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80)));
        Assert.Equal(["pacing copies beside a GIN build (GIN 6.0 s left; per worker beside it, copies 2.9 s paced, builds 0.0 s)", "copies at full speed"], notes);
    }

    [Fact]
    public void PauseAfter_BuildsStillToRun_AreWeighedAtTheRateOfTheFinishedOnes()
    {
        // A GIN build with 6 s left, the other worker beside it; indexes of 200 MB on the source still to build.
        var pacer = PacerBesideAGinFourSecondsIn(0.5, totalBytes: 108 * Mb);
        pacer.BuildsPlanned(200 * Mb);

        // No build has ended: their time is not known, so no pacing.
        Assert.Equal(TimeSpan.Zero, pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80)));

        // The first 100 MB took 1 s, so the 100 MB left 1 s; with 100 MB to copy at 50 MB/s paced (3 s): 4 s, inside the
        // GIN's 6 s less the margin (4.9 s).
        pacer.BuildDone(1.0, 100 * Mb);
        Assert.Equal(TimeSpan.FromMilliseconds(40), pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80)));

        // Had they taken 5 s per 100 MB, the 5 s left would not fit.
        var slow = PacerBesideAGinFourSecondsIn(0.5, totalBytes: 108 * Mb);
        slow.BuildsPlanned(200 * Mb);
        slow.BuildDone(5.0, 100 * Mb);
        Assert.Equal(TimeSpan.Zero, slow.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80)));
    }

    [Fact]
    public void PauseAfter_CopyingLeft_IsScaledByWhatTheFinishedCopiesMovedPerByteExpected()
    {
        // A GIN build with 6 s left, one worker beside it; 196 MB left to copy at 50 MB/s, paced: 5.9 s, more than 4.9.
        var pacer = PacerBesideAGinFourSecondsIn(0.5, totalBytes: 200 * Mb);
        Assert.Equal(TimeSpan.Zero, pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80)));

        // The first copy, 100 MB expected, moved 50 MB: the 100 MB expected of the rest are 50 MB; 4 more relayed, 46 MB
        // left, 1.4 s paced.
        pacer.PieceDone(expected: 100 * Mb, moved: 50 * Mb, reported: 4 * Mb);
        Assert.Equal(TimeSpan.FromMilliseconds(40), pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80)));
    }

    [Fact]
    public void PauseAfter_NotPacingBesideAGinBuild_SaysWhyEveryTwoSeconds()
    {
        var clock = new TestClock();
        var notes = new List<string>();
        var pacer = PacerBesideAGinFourSecondsIn(0.5, totalBytes: 1000 * Mb, clock, notes.Add);
        pacer.BuildsPlanned(100 * Mb);

        pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80));
        clock.Advance(TimeSpan.FromSeconds(1));
        pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80));
        clock.Advance(TimeSpan.FromSeconds(1));
        pacer.BuildDone(1.0, 50 * Mb);
        pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80));

        // 996 MB left at 50 MB/s, paced: 29.9 s; two seconds on, 988 MB (29.6 s) and the 50 MB of builds left at 1 s per 50 MB.
        Assert.Equal(
            [
                "not pacing (GIN 6.0 s left; per worker beside it, copies 29.9 s paced, builds not timed yet)",
                "not pacing (GIN 9.0 s left; per worker beside it, copies 29.6 s paced, builds 1.0 s)",
            ],
            notes);
    }

    [Fact]
    public void PauseAfter_FactorZero_NeverPaces()
    {
        var pacer = PacerBesideAGinFourSecondsIn(0, totalBytes: 8 * Mb);

        Assert.Equal(TimeSpan.Zero, pacer.PauseAfter(4 * Mb, TimeSpan.FromMilliseconds(80)));
    }

    [Fact]
    public async Task WatchAsync_RealGinBuild_ReadsItsProgressAndPacesUntilItEnds()
    {
        await using var s = await Scenario.StartAsync(fx);
        var database = "tenant_" + s.NewSlug("pace").Replace('-', '_');
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(database)}");
        // Each row's key takes 2 ms to compute: the build lasts seconds on any machine, and its scan advances block by block.
        await s.ExecAsync(s.Live, database, """
            CREATE FUNCTION slow_doc(d jsonb) RETURNS jsonb IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN d; END $$;
            CREATE TABLE doc (id int, body jsonb, pad text);
            INSERT INTO doc SELECT i, jsonb_build_object('k', i), repeat('x', 400) FROM generate_series(1, 2000) i;
            """);
        await using var builder = await s.Connector.OpenAsync(s.Live, database, CancellationToken.None);
        await using var watcher = await s.Connector.OpenAsync(s.Live, database, CancellationToken.None);
        var notes = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var pacer = new CopyPacer(0.5, workers: 2, TimeProvider.System) { Note = notes.Enqueue };
        pacer.SetTotalBytes(64 * Mb);
        using var stop = new CancellationTokenSource();
        var watch = pacer.WatchAsync(watcher, stop.Token);

        pacer.GinStarted(builder.ProcessID);
        await using var create = new NpgsqlCommand("CREATE INDEX doc_body ON doc USING gin (slow_doc(body))", builder) { CommandTimeout = 0 };
        var build = create.ExecuteNonQueryAsync(CancellationToken.None);
        var paused = TimeSpan.Zero;
        while (!build.IsCompleted && paused == TimeSpan.Zero)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            paused = pacer.PauseAfter(1 * Mb, TimeSpan.FromMilliseconds(10));
        }

        var pacedWhileBuilding = !build.IsCompleted;
        await build;
        pacer.GinEnded(builder.ProcessID);
        var after = pacer.PauseAfter(1 * Mb, TimeSpan.FromMilliseconds(10));
        await stop.CancelAsync();
        await watch;

        Assert.True(pacedWhileBuilding, "the build ended before its progress let the pacer pace");
        Assert.Equal(TimeSpan.FromMilliseconds(5), paused);
        Assert.Equal(TimeSpan.Zero, after);
        // Before it paced, the trace may have said why not, now and then.
        Assert.Equal(["pacing copies beside a GIN build", "copies at full speed"], notes.Where(n => !n.StartsWith("not pacing (", StringComparison.Ordinal)).Select(n => n.Split(" (")[0]));
        // The watcher's connection is left usable for the move's next statements.
        await using var check = new NpgsqlCommand("SELECT 1", watcher);
        Assert.Equal(1, await check.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>A pacer of two workers beside a GIN build that has scanned 40 % of its table in 4 s (6 s left), on <paramref name="clock"/> if given.</summary>
    private static CopyPacer PacerBesideAGinFourSecondsIn(double factor, long totalBytes, TestClock? clock = null, Action<string>? note = null)
    {
        clock ??= new TestClock();
        var pacer = new CopyPacer(factor, workers: 2, clock) { Note = note };
        pacer.SetTotalBytes(totalBytes);
        pacer.GinStarted(backend: 4242);
        clock.Advance(TimeSpan.FromSeconds(4));
        pacer.GinProgress(4242, 0.4);
        return pacer;
    }
}
