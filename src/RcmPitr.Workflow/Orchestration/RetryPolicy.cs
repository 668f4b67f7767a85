namespace RcmPitr.Workflow.Orchestration;

/// <summary>
/// Durable retry of an activity (mirrors Durable Task's <c>RetryPolicy</c>): the waits between attempts are
/// durable timers, so retries survive restarts. Refusals RcmPitr raises on purpose
/// (<see cref="Errors.RcmPitrException"/> subclasses) are never retried: trying again cannot change them.
/// </summary>
public sealed record RetryPolicy(
    int MaxNumberOfAttempts,
    TimeSpan FirstRetryInterval,
    double BackoffCoefficient = 2.0,
    TimeSpan? MaxRetryInterval = null)
{
    /// <summary>For steps that talk to servers: 5 attempts, 15 s doubling to at most 5 min.</summary>
    public static RetryPolicy Transient { get; } = new(5, TimeSpan.FromSeconds(15), 2.0, TimeSpan.FromMinutes(5));

    /// <summary>The delay before attempt <paramref name="nextAttempt"/> (2 = first retry).</summary>
    public TimeSpan DelayBefore(int nextAttempt)
    {
        var delay = FirstRetryInterval.TotalMilliseconds * Math.Pow(BackoffCoefficient, nextAttempt - 2);
        var max = (MaxRetryInterval ?? TimeSpan.FromHours(1)).TotalMilliseconds;
        return TimeSpan.FromMilliseconds(Math.Min(delay, max));
    }

    /// <summary>Whether a failure of this kind is worth another attempt.</summary>
    public static bool IsRetryable(ActivityFailureDetails failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return !failure.IsRefusal;
    }
}
