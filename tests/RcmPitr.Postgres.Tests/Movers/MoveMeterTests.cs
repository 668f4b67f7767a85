using RcmPitr.Postgres.Movers;

namespace RcmPitr.Postgres.Tests.Movers;

/// <summary>The meter's throughput and estimated finish, on a clock the test moves.</summary>
public sealed class MoveMeterTests
{
    private const long Mb = 1048576;

    [Fact]
    public void Snapshot_StreamingDataPhase_AveragesFromTheFirstByteAndEstimatesTheRest()
    {
        var clock = new TestClock();
        var meter = new MoveMeter(clock);
        meter.Enter(MovePhases.Schema);
        meter.SetTotalBytes(1000 * Mb);
        clock.Advance(TimeSpan.FromSeconds(3));
        meter.Enter(MovePhases.Data);
        // The first buffer arrives a second into the phase: the rate is measured from there, not from the phase's start.
        clock.Advance(TimeSpan.FromSeconds(1));
        meter.AddBytes(50 * Mb);
        clock.Advance(TimeSpan.FromSeconds(1));

        var early = meter.Snapshot();

        clock.Advance(TimeSpan.FromSeconds(4));
        meter.AddBytes(50 * Mb);
        var running = meter.Snapshot();

        Assert.Equal((MovePhases.Data, 50 * Mb, 1000 * Mb), (early.Phase, early.BytesMoved, early.BytesTotal));
        Assert.Null(early.BytesPerSecond); // 1 s in: shorter than the warm-up.
        Assert.Null(early.EstimatedFinishAt);
        Assert.Equal(20.0 * Mb, running.BytesPerSecond!.Value, 3);
        Assert.Equal(45.0, running.SecondsRemaining!.Value, 3); // 900 MB left at 20 MB/s.
        Assert.Equal(clock.GetUtcNow().AddSeconds(45), running.EstimatedFinishAt);
    }

    [Fact]
    public void Snapshot_AfterTheDataPhase_KeepsTheAchievedRateAndEstimatesNothing()
    {
        var clock = new TestClock();
        var meter = new MoveMeter(clock);
        meter.SetTotalBytes(400 * Mb);
        meter.Enter(MovePhases.Data);
        meter.AddBytes(100 * Mb);
        clock.Advance(TimeSpan.FromSeconds(10));
        meter.AddBytes(100 * Mb);
        meter.Enter(MovePhases.Indexes);
        clock.Advance(TimeSpan.FromMinutes(5));

        var indexes = meter.Snapshot();
        meter.Enter(MovePhases.Done);
        clock.Advance(TimeSpan.FromMinutes(1));
        var done = meter.Snapshot();

        Assert.Equal(20.0 * Mb, indexes.BytesPerSecond!.Value, 3);
        Assert.Null(indexes.EstimatedFinishAt);
        Assert.Null(indexes.SecondsRemaining);
        Assert.Equal((MovePhases.Done, 20.0 * Mb), (done.Phase, done.BytesPerSecond!.Value));
        Assert.Null(done.EstimatedFinishAt);
    }

    [Fact]
    public void Snapshot_UnknownTotalOrMoreThanTheTotal_HasARateButNoEstimate()
    {
        var clock = new TestClock();
        var unknown = new MoveMeter(clock);
        var underestimated = new MoveMeter(clock);
        underestimated.SetTotalBytes(10 * Mb);
        MoveMeter[] meters = [unknown, underestimated];
        foreach (var meter in meters)
        {
            meter.Enter(MovePhases.Data);
            meter.AddBytes(0); // An empty buffer is no first byte.
        }

        clock.Advance(TimeSpan.FromSeconds(1));
        foreach (var meter in meters)
        {
            meter.AddBytes(30 * Mb);
        }

        clock.Advance(TimeSpan.FromSeconds(3));
        var a = unknown.Snapshot();
        var b = underestimated.Snapshot();

        Assert.Equal((0L, 10.0 * Mb), (a.BytesTotal, a.BytesPerSecond!.Value));
        Assert.Null(a.EstimatedFinishAt);
        Assert.Equal(10.0 * Mb, b.BytesPerSecond!.Value, 3);
        Assert.Null(b.EstimatedFinishAt);
        Assert.Null(b.SecondsRemaining);
    }

    [Fact]
    public void Snapshot_BeforeAnyByte_HasNoRateAndNoEstimate()
    {
        var clock = new TestClock();
        var meter = new MoveMeter(clock);
        meter.SetTotalBytes(100 * Mb);
        meter.Enter(MovePhases.Schema);
        clock.Advance(TimeSpan.FromSeconds(30));
        var schema = meter.Snapshot();
        meter.Enter(MovePhases.Data);
        clock.Advance(TimeSpan.FromSeconds(30));
        var waiting = meter.Snapshot();

        Assert.Equal((100 * Mb, (double?)null, (DateTimeOffset?)null), (schema.BytesTotal, schema.BytesPerSecond, schema.EstimatedFinishAt));
        Assert.Equal(((double?)null, (DateTimeOffset?)null), (waiting.BytesPerSecond, waiting.EstimatedFinishAt));
    }

    [Fact]
    public void Snapshot_DumpPhase_MeasuresTheDumpFileFromThePhasesStart()
    {
        var clock = new TestClock();
        var meter = new MoveMeter(clock);
        var scratch = Directory.CreateTempSubdirectory("rcm-meter-").FullName;
        try
        {
            meter.SetTotalBytes(16 * Mb);
            meter.Enter(MovePhases.Dump, scratch);
            using (var file = File.Create(Path.Combine(scratch, "tenant.dump")))
            {
                file.SetLength(8 * Mb);
            }

            clock.Advance(TimeSpan.FromSeconds(4));
            var dumping = meter.Snapshot();
            meter.SetBytes(8 * Mb);
            meter.Enter(MovePhases.Restore);
            clock.Advance(TimeSpan.FromSeconds(100));
            var restoring = meter.Snapshot();

            Assert.Equal((8 * Mb, 2.0 * Mb), (dumping.BytesMoved, dumping.BytesPerSecond!.Value));
            Assert.Equal(4.0, dumping.SecondsRemaining!.Value, 3);
            Assert.Equal((8 * Mb, 2.0 * Mb), (restoring.BytesMoved, restoring.BytesPerSecond!.Value));
            Assert.Null(restoring.EstimatedFinishAt);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Fact]
    public void Note_WithAWatcher_HandsItEachEventAfterRecordingIt()
    {
        var seen = new List<(string What, int Recorded)>();
        MoveMeter? meter = null;
        meter = new MoveMeter(new TestClock()) { Noted = what => seen.Add((what, meter!.Events.Count)) };

        meter.Enter(MovePhases.Data);
        meter.Note("copy start data public.t");

        Assert.Equal([("phase data", 1), ("copy start data public.t", 2)], seen);
        Assert.Equal(["phase data", "copy start data public.t"], meter.Events.Select(e => e.What));
    }
}
