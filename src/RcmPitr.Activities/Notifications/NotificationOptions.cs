namespace RcmPitr.Activities.Notifications;

/// <summary>
/// Where a host sends run notifications and how it retries (section <c>Notifications</c>; on the embedded host
/// <c>RcmPitr:Notifications</c>). No target: messages are only logged.
/// </summary>
public sealed class NotificationOptions
{
    /// <summary>The receivers; every message goes to each.</summary>
    public List<NotificationTarget> Targets { get; set; } = [];

    /// <summary>Attempts per message and target before it is marked dead.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The wait after the first failed attempt; it doubles after each further one.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between attempts.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often the dispatcher looks for due messages.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one delivery may take before it counts as failed.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
