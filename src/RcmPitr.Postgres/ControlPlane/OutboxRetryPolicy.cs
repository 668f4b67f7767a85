namespace RcmPitr.Postgres.ControlPlane;

/// <summary>How often a failed delivery is tried again: after <see cref="FirstDelay"/>, doubling up to <see cref="MaxDelay"/>, <see cref="MaxAttempts"/> in all.</summary>
public sealed record OutboxRetryPolicy(int MaxAttempts, TimeSpan FirstDelay, TimeSpan MaxDelay)
{
    /// <summary>The wait after the <paramref name="attempts"/>-th failed attempt (1-based).</summary>
    public TimeSpan DelayAfter(int attempts)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var delay = FirstDelay.TotalMilliseconds * factor;
        return delay >= MaxDelay.TotalMilliseconds ? MaxDelay : TimeSpan.FromMilliseconds(delay);
    }
}
