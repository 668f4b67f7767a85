using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Activities;

/// <summary>Tells the people who follow a tenant's restores what happened (chat channel, ticket, e-mail).</summary>
public interface INotifier
{
    /// <summary>
    /// Hands the message over for delivery. A run sends each <paramref name="notificationEvent"/> (see
    /// <see cref="Notifications.NotificationEvents"/>) once; handing it over twice is harmless, losing it is not.
    /// </summary>
    Task NotifyAsync(string notificationEvent, NotifyInput message, CancellationToken cancellationToken);
}
