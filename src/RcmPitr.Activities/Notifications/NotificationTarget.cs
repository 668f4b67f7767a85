namespace RcmPitr.Activities.Notifications;

/// <summary>One receiver of run notifications.</summary>
public sealed class NotificationTarget
{
    /// <summary>The target's name, stored with each of its messages in the outbox (letters, digits, '-', '_').</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The payload shape.</summary>
    public NotificationPayloadKind Kind { get; set; } = NotificationPayloadKind.Webhook;

    /// <summary>The name of the secret (in the host's secret store) that holds the webhook URL — never the URL itself.</summary>
    public string UrlSecretRef { get; set; } = string.Empty;
}
