using System.Runtime.Versioning;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RcmPitr.Activities.Notifications;

/// <summary>
/// Runs the <see cref="NotificationDispatcher"/> every <see cref="NotificationOptions.PollInterval"/> on each host
/// instance; instances share the outbox safely (rows are claimed with <c>FOR UPDATE SKIP LOCKED</c>). A failed round
/// (the master unreachable) is logged by type and tried again at the next interval.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class NotificationDispatchService(
    NotificationDispatcher dispatcher, NotificationOptions options, TimeProvider time, ILogger<NotificationDispatchService> logger,
    IHostApplicationLifetime? lifetime = null) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!dispatcher.HasTargets)
        {
            return;
        }

        if (lifetime is not null)
        {
            // Not before the host has started: until it listens, the embedded host does not know the address its links name.
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
            using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }

        using var timer = new PeriodicTimer(options.PollInterval, time);
        do
        {
            try
            {
                await dispatcher.DispatchDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(logger, e.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notification dispatch round failed ({Error}); trying again at the next interval")]
    private static partial void LogRoundFailed(ILogger logger, string error);
}
