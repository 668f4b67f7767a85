namespace RcmPitr.Activities.Notifications;

/// <summary>The JSON a target receives.</summary>
public enum NotificationPayloadKind
{
    /// <summary>
    /// <c>{"event","runId","tenant","subject","body","createdAt","attempt"}</c> — for a generic receiver that routes by
    /// field.
    /// </summary>
    Webhook,

    /// <summary>
    /// <c>{"text": "subject\nbody"}</c> — accepted as-is by Slack incoming webhooks and by Microsoft Teams workflow
    /// ("When a Teams webhook request is received") webhooks that post the <c>text</c> to a channel.
    /// </summary>
    Text,
}
