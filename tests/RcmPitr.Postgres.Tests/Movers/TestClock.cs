namespace RcmPitr.Postgres.Tests.Movers;

/// <summary>A clock the test moves: wall time and timestamps advance together, in ticks.</summary>
internal sealed class TestClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 4, 22, 12, 0, 0, TimeSpan.Zero);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => _now;

    public override long GetTimestamp() => _now.UtcTicks;

    public void Advance(TimeSpan by) => _now += by;
}
