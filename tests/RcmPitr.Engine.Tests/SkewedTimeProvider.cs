namespace RcmPitr.Engine.Tests;

/// <summary>The system clock of a host whose wall clock is off by <paramref name="offset"/>; its timers and stopwatch run true.</summary>
public sealed class SkewedTimeProvider(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
}
