namespace RcmPitr.Azure.Arm;

/// <summary>Where point-in-time restored servers are created, and how ARM is reached.</summary>
public sealed class AzureArmOptions
{
    /// <summary>The api-version of <c>Microsoft.DBforPostgreSQL/flexibleServers</c> RcmPitr speaks (pinned: the schema it reads).</summary>
    public const string DefaultApiVersion = "2025-08-01";

    /// <summary>Subscription of the servers.</summary>
    public string SubscriptionId { get; set; } = string.Empty;

    /// <summary>Resource group the restored servers are created in (the live server's, by default).</summary>
    public string ResourceGroup { get; set; } = string.Empty;

    /// <summary>Region of the restored servers (the source's, for a point-in-time restore).</summary>
    public string Location { get; set; } = string.Empty;

    /// <summary>
    /// The paired region for an explicit geo-restore (region loss: the latest geo-backup, never a point in time); null
    /// disables it. A point-in-time restore never falls back to it.
    /// </summary>
    public string? GeoRestoreLocation { get; set; }

    /// <summary>The flexibleServers api-version.</summary>
    public string ApiVersion { get; set; } = DefaultApiVersion;

    /// <summary>ARM endpoint (the public cloud unless overridden, e.g. sovereign clouds or a test stand-in).</summary>
    public Uri Endpoint { get; set; } = new("https://management.azure.com");

    /// <summary>Token audience for <see cref="Endpoint"/>.</summary>
    public string Audience { get; set; } = "https://management.azure.com/";

    /// <summary>Attempts for a transient ARM fault (429, 5xx) inside one activity call.</summary>
    public int MaxTransientAttempts { get; set; } = 5;

    /// <summary>First back-off for a transient fault without Retry-After; doubles up to 30 s.</summary>
    public TimeSpan TransientBackoff { get; set; } = TimeSpan.FromSeconds(2);
}
