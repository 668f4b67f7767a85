using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Activities;

/// <summary>Tells the people who follow a tenant's restores what happened (chat channel, ticket, e-mail).</summary>
public interface INotifier
{
    /// <summary>Sends the message. Sending twice is acceptable; losing it is not.</summary>
    Task NotifyAsync(NotifyInput message, CancellationToken cancellationToken);
}
