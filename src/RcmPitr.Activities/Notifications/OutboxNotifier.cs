using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Activities.Notifications;

/// <summary>
/// The hosts' notifier: logs the message and writes it to the master's outbox, once per configured target, for the
/// <see cref="NotificationDispatcher"/> to deliver. Only the write can fail the step (the master is unreachable, and the
/// step's durable retry covers that); a receiver's trouble never reaches the run.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class OutboxNotifier(NotificationOutbox outbox, NotificationOptions options, ILogger<OutboxNotifier> logger) : INotifier
{
    private readonly string[] _targets = NotificationDispatcher.TargetNames(options);

    /// <inheritdoc />
    public async Task NotifyAsync(string notificationEvent, NotifyInput message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        LogNotifier.Log(logger, message, notificationEvent);
        await outbox.EnqueueAsync(message.RunId, notificationEvent, message.Tenant, message.Subject, message.Body, _targets, cancellationToken);
    }
}
