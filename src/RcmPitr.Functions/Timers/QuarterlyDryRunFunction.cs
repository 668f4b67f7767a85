using System.Runtime.Versioning;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using RcmPitr.Api;
using RcmPitr.Functions.Composition;
using RcmPitr.Functions.Http;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Timers;

/// <summary>
/// The runbook's recommended quarterly dry run (default <c>0 0 6 1 1,4,7,10 *</c>, setting <c>DryRunSchedule</c>): for
/// each configured tenant, every step but freeze, approval and cutover, against a restore point a little in
/// the past, to surface IAM / network / disk problems before they are needed in earnest. A tenant with an
/// active run is skipped, not waited for.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class QuarterlyDryRunFunction(DryRunOptions options, RestoreSettings settings, TimeProvider time, TenantRunLock tenantRuns, ILogger<QuarterlyDryRunFunction> logger)
{
    /// <summary>The principal dry runs are recorded under.</summary>
    public const string Principal = "quarterly-dry-run";

    /// <summary>Starts the dry runs; returns the ids started.</summary>
    [Function("QuarterlyDryRun")]
    public async Task<IReadOnlyList<string>> Run([TimerTrigger("%DryRunSchedule%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        var runs = new DurableRestoreRuns(client, tenantRuns);
        var restoreTime = RestoreStamp.WholeSecond(time.GetUtcNow() - options.RestorePointAge);
        var started = new List<string>();
        foreach (var tenant in options.TenantList)
        {
            var slug = TenantSlug.Parse(tenant, "DryRun:Tenants");
            var request = new RestoreRequest(slug.Value, restoreTime, RestoreMode.DryRun, CutoverStrategy.SwapAndKeep, "quarterly dry run (runbook)", Principal) { Settings = settings };
            var id = $"{RestoreApiHandlers.RunIdPrefix(slug.Value)}{RestoreStamp.From(restoreTime).Value}-dryrun";
            try
            {
                await runs.StartAsync(RestoreTenantOrchestrator.Name, id, request, slug.Value, cancellationToken);
                started.Add(id);
                LogStarted(logger, slug.Value, id);
            }
            catch (TenantBusyException e)
            {
                LogSkipped(logger, slug.Value, e.RunningInstanceId);
            }
            catch (RunExistsException)
            {
                LogSkipped(logger, slug.Value, id);
            }
        }

        return started;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Quarterly dry run of {Tenant} started: {InstanceId}")]
    private static partial void LogStarted(ILogger logger, string tenant, string instanceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quarterly dry run of {Tenant} skipped: run {InstanceId} is active or already exists")]
    private static partial void LogSkipped(ILogger logger, string tenant, string instanceId);
}
