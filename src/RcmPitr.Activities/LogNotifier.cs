using Microsoft.Extensions.Logging;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Activities;

/// <summary>The embedded host's notifier: a structured log entry per message (ship logs to where people look).</summary>
public sealed partial class LogNotifier(ILogger<LogNotifier> logger) : INotifier
{
    /// <inheritdoc />
    public Task NotifyAsync(NotifyInput message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        LogNotification(logger, message.RunId, message.Tenant, message.Subject, message.Body);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Restore {RunId} of tenant {Tenant}: {Subject}. {Body}")]
    private static partial void LogNotification(ILogger logger, string runId, string tenant, string subject, string body);
}
