using System.Runtime.Versioning;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using RcmPitr.Api;
using RcmPitr.Api.Drills;
using RcmPitr.Functions.Http;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Timers;

/// <summary>
/// The runbook's recommended quarterly dry run (default <c>0 0 6 1 1,4,7,10 *</c>, setting <c>DryRunSchedule</c>), as a restore
/// drill: the configured tenants (<c>DryRun:Tenants</c>; none: every tenant of every server) dry-run to one restore point a
/// little in the past, on one restored server per source server, each with a report (<c>GET /api/drills/{id}</c>). The drill is
/// named after the occurrence, so a timer that fires twice starts it once. A tenant busy with another run is not waited for:
/// the report records it as not drilled.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class QuarterlyDryRunFunction(
    DrillScheduleOptions options, RestoreSettings settings, BatchSettings batchSettings, TimeProvider time, TenantRunLock tenantRuns, TenantResolver tenants,
    IServerProvisioner provisioner, DecisionLog decisions, ILogger<QuarterlyDryRunFunction> logger, RestorePreflight? preflight = null)
{
    /// <summary>The principal drills are recorded under.</summary>
    public const string Principal = "quarterly-dry-run";

    /// <summary>Starts the drill; returns its id(s) (one per 50 tenants).</summary>
    [Function("QuarterlyDryRun")]
    public async Task<IReadOnlyList<string>> Run([TimerTrigger("%DryRunSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        var runs = new DurableRestoreRuns(client, tenantRuns);
        var handlers = new RestoreApiHandlers(runs, tenants, provisioner, settings, time, decisions, preflight);
        var starter = new DrillStarter(runs, handlers, tenants, settings, batchSettings, options, time);
        var now = time.GetUtcNow();
        var occurrence = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
        var started = await starter.StartAsync(requested: null, Principal, Principal, occurrence, cancellationToken);
        foreach (var skip in started.Skipped)
        {
            LogSkipped(logger, skip.Tenant, skip.Reason);
        }

        foreach (var id in started.DrillIds)
        {
            LogStarted(logger, id, started.AlreadyStarted);
        }

        return started.DrillIds;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Quarterly restore drill started: {DrillId} (already started: {Already})")]
    private static partial void LogStarted(ILogger logger, string drillId, bool already);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quarterly restore drill skips {Tenant}: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string tenant, string reason);
}
