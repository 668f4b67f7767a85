using Microsoft.Extensions.Logging;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Activities;

/// <summary>A notifier that only writes a structured log entry per message (ship logs to where people look).</summary>
public sealed partial class LogNotifier(ILogger<LogNotifier> logger) : INotifier
{
    /// <inheritdoc />
    public Task NotifyAsync(string notificationEvent, NotifyInput message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        Log(logger, message, notificationEvent);
        return Task.CompletedTask;
    }

    internal static void Log(ILogger logger, NotifyInput message, string notificationEvent) =>
        LogNotification(logger, message.RunId, message.Tenant, notificationEvent, message.Subject, message.Body);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restore {RunId} of tenant {Tenant} ({Event}): {Subject}. {Body}")]
    private static partial void LogNotification(ILogger logger, string runId, string tenant, string @event, string subject, string body);
}
