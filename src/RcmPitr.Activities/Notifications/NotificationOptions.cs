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

    /// <summary>
    /// The public address of the run pages and the API (e.g. <c>https://rcm-pitr.example.com</c>): every message links to its
    /// run's page and status, and a run awaiting approval also to its approve and reject endpoints. Unset, the hosts use
    /// <c>Links:PublicBaseUrl</c>, then their own address (the embedded host's listening URL, the Function app's
    /// <c>WEBSITE_HOSTNAME</c>); none known: messages carry no links.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>
    /// Where the host listens, asked at each send when <see cref="PublicBaseUrl"/> is unset (the embedded host sets it; not a
    /// setting). Read at send time, so it is the bound address, not a configured port 0.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Func<string?>? ListeningAddress { get; set; }

    /// <summary>How long one delivery may take before it counts as failed.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
