using Cronos;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RcmPitr.Api.Drills;

namespace RcmPitr.Host.Composition;

/// <summary>
/// The embedded host's drill schedule: at every occurrence of the <c>DryRunSchedule</c> cron expression (the Functions
/// timer's setting; six fields with seconds, or five; UTC) it starts a restore drill of the configured tenants (<c>DryRun:Tenants</c>;
/// none: every tenant). A drill is named after its occurrence, so two hosts on one engine database — or a restart within the
/// same minute — start it once. An occurrence missed while the host was down is not caught up: the next one runs.
/// </summary>
public sealed partial class DrillScheduler(DrillStarter starter, DrillSchedule schedule, TimeProvider time, ILogger<DrillScheduler> logger) : BackgroundService
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    /// <summary>The principal scheduled drills are recorded under.</summary>
    public const string Principal = "scheduled-drill";

    /// <summary>Refuses an expression that is not a cron expression, naming the setting (the host does not start with it).</summary>
    public static void Validate(DrillSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (string.IsNullOrWhiteSpace(schedule.Expression))
        {
            return;
        }

        try
        {
            Next(schedule.Expression, DateTimeOffset.UnixEpoch);
        }
        catch (CronFormatException e)
        {
            throw new InvalidOperationException(
                $"DryRunSchedule '{schedule.Expression}' is not a cron expression (six fields with seconds, e.g. 0 0 6 1 1,4,7,10 *, or five; empty turns drills off): {e.Message}", e);
        }
    }

    /// <summary>The next occurrence after <paramref name="after"/>, or null when the expression has none.</summary>
    public static DateTimeOffset? Next(string expression, DateTimeOffset after)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var cron = CronExpression.Parse(expression, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        return cron.GetNextOccurrence(after, TimeZoneInfo.Utc);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(schedule.Expression))
        {
            LogOff(logger);
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            if (Next(schedule.Expression, now) is not { } next)
            {
                return;
            }

            LogNext(logger, next);
            try
            {
                // A quarterly occurrence is months away, beyond what one timer can wait: wait at most a day at a time.
                for (var left = next - time.GetUtcNow(); left > TimeSpan.Zero; left = next - time.GetUtcNow())
                {
                    await Task.Delay(left < MaxWait ? left : MaxWait, time, stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                var started = await starter.StartAsync(requested: null, Principal, Principal, next, stoppingToken);
                foreach (var skip in started.Skipped)
                {
                    LogSkipped(logger, skip.Tenant, skip.Reason);
                }

                LogStarted(logger, string.Join(", ", started.DrillIds), started.AlreadyStarted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A master briefly unreachable must not stop the schedule: the next occurrence tries again.
                LogFailed(logger, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Restore drills are not scheduled on this host (set DryRunSchedule, e.g. 0 0 6 1 1,4,7,10 *, to drill quarterly)")]
    private static partial void LogOff(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Next restore drill at {Next:O}")]
    private static partial void LogNext(ILogger logger, DateTimeOffset next);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled restore drill started: {DrillIds} (already started by another host: {Already})")]
    private static partial void LogStarted(ILogger logger, string drillIds, bool already);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduled restore drill skips {Tenant}: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string tenant, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scheduled restore drill could not start; the next occurrence tries again")]
    private static partial void LogFailed(ILogger logger, Exception error);
}

/// <summary>The cron expression of the drills (<c>RcmPitr:DryRunSchedule</c>, else the Functions app's top-level <c>DryRunSchedule</c>).</summary>
public sealed record DrillSchedule(string? Expression);
