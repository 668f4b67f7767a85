using System.Runtime.Versioning;
using RcmPitr.Activities.Notifications;
using RcmPitr.Postgres.Changes;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Telemetry;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Orchestration;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Activities;

/// <summary>
/// Every activity of the restore workflow (names in <see cref="ActivityNames"/>). Each is idempotent because
/// the operation behind it is; none holds state between calls. Each execution is recorded by <see cref="StepTelemetry"/>
/// here, the one place both hosts run activities through.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RestoreActivities(
    TenantResolver resolver,
    TenantStatusChanger status,
    IServerProvisioner provisioner,
    RestoredServers restoredServers,
    RestorePreflight preflight,
    TenantDumper dumper,
    RestoreDatabaseLoader loader,
    TenantTransfer transfer,
    ParityProbe parity,
    ParityReportStore parityReports,
    ChangeReporter changes,
    SwapCutover swap,
    FlipRefCutover flip,
    TenantCacheInvalidator cache,
    AuditWriter audit,
    DerivedDatabaseDropper dropper,
    INotifier notifier,
    IOrchestrationStarter orchestrations,
    IOrchestrationTerminator terminator,
    StepStartLedger starts)
{
#pragma warning disable CS1591 // Each method is the activity of the same name; ActivityNames documents them.
    public Task<TenantInfo> ResolveTenant(ResolveTenantInput input, CancellationToken ct) =>
        Step(ActivityNames.ResolveTenant, new(Tenant: input.Tenant), ct, () => resolver.ResolveAsync(input, ct));

    public Task<FreezeTenantResult> FreezeTenant(FreezeTenantInput input, CancellationToken ct) =>
        Step(ActivityNames.FreezeTenant, new(input.RunId), ct, () => status.FreezeAsync(input, ct));

    public Task<UnfreezeTenantResult> UnfreezeTenant(UnfreezeTenantInput input, CancellationToken ct) =>
        Step(ActivityNames.UnfreezeTenant, new(input.RunId), ct, () => status.UnfreezeAsync(input, ct));

    public Task<ConfirmFreezeResult> ConfirmFreeze(ConfirmFreezeInput input, CancellationToken ct) =>
        Step(ActivityNames.ConfirmFreeze, new(input.RunId), ct, () => status.ConfirmFreezeAsync(input, ct));


    public Task<ServerStatus> GetServerState(GetServerStateInput input, CancellationToken ct) =>
        Step(ActivityNames.GetServerState, StepSubject.None, ct, () => provisioner.GetStateAsync(input, ct));


    public Task<AcquireServerResult> AcquireServer(AcquireServerInput input, CancellationToken ct) =>
        Step(ActivityNames.AcquireServer, new(input.RunId), ct, () => restoredServers.AcquireAsync(input, ct));

    public Task<ReleaseServerResult> ReleaseServer(ReleaseServerInput input, CancellationToken ct) =>
        Step(ActivityNames.ReleaseServer, new(input.RunId), ct, () => restoredServers.ReleaseAsync(input, ct));

    public Task<PreflightResult> Preflight(PreflightInput input, CancellationToken ct) =>
        Step(ActivityNames.Preflight, new(Tenant: input.Tenant), ct, () => preflight.CheckAsync(input, ct));

    // The long steps: a host that aborts one (Azure Functions at functionTimeout) and starts it again is bounded by the ledger.
    public Task<DumpTenantResult> DumpTenant(DumpTenantInput input, CancellationToken ct) =>
        Step(ActivityNames.DumpTenant, new(input.RunId, input.Tenant, TransferMode.Runbook), ct,
            () => starts.RunAsync(input.RunId, ActivityNames.DumpTenant, token => dumper.DumpAsync(input, token), ct), r => r.Reused ? 0 : r.SizeBytes);

    public Task<DeleteDumpResult> DeleteDump(DeleteDumpInput input, CancellationToken ct) =>
        Step(ActivityNames.DeleteDump, new(input.RunId), ct, () => dumper.DeleteAsync(input, ct));

    public Task<RestoreDatabaseResult> RestoreDatabase(RestoreDatabaseInput input, CancellationToken ct) =>
        Step(ActivityNames.RestoreDatabase, new(input.RunId, input.Tenant), ct,
            () => starts.RunAsync(input.RunId, ActivityNames.RestoreDatabase, token => loader.LoadAsync(input, token), ct));

    public Task<MoveTenantResult> MoveTenant(MoveTenantInput input, CancellationToken ct) =>
        Step(ActivityNames.MoveTenant, new(input.RunId, input.Tenant, input.Mode), ct,
            () => starts.RunAsync(input.RunId, ActivityNames.MoveTenant, token => transfer.MoveAsync(input, token), ct), r => r.Reused ? 0 : r.BytesMoved);

    public Task<ParityReport> ParityProbe(ParityProbeInput input, CancellationToken ct) =>
        Step(ActivityNames.ParityProbe, new(input.RunId, input.Tenant), ct, async () =>
        {
            var report = await parity.ProbeAsync(input, ct);
            // The full table lives in the master database; the run's status keeps what fits its size budget.
            await parityReports.WriteAsync(input.RunId, report, ct);
            return report;
        });

    // Bounded by its time budget (Changes:TimeBudget), after which the report says it is partial; the full report goes to the master.
    public Task<ChangeSummary> CompareChanges(CompareChangesInput input, CancellationToken ct) =>
        Step(ActivityNames.CompareChanges, new(input.RunId, input.Tenant), ct, () => changes.CompareAsync(input, ct));

    public Task<SwapCutoverResult> SwapCutover(SwapCutoverInput input, CancellationToken ct) =>
        Step(ActivityNames.SwapCutover, new(input.RunId, input.Tenant), ct, () => swap.CutOverAsync(input, ct));

    public Task<FlipRefCutoverResult> FlipRefCutover(FlipRefCutoverInput input, CancellationToken ct) =>
        Step(ActivityNames.FlipRefCutover, new(input.RunId, input.Tenant), ct, () => flip.FlipAsync(input, ct));

    public Task<RollbackSwapResult> RollbackSwap(RollbackSwapInput input, CancellationToken ct) =>
        Step(ActivityNames.RollbackSwap, new(input.RunId, input.Tenant), ct, () => swap.RollBackAsync(input, ct));

    public Task<RollbackFlipResult> RollbackFlip(RollbackFlipInput input, CancellationToken ct) =>
        Step(ActivityNames.RollbackFlip, new(input.RunId), ct, () => flip.RollBackAsync(input, ct));

    public Task<VerifyCutoverResult> VerifyCutover(VerifyCutoverInput input, CancellationToken ct) =>
        Step(ActivityNames.VerifyCutover, StepSubject.None, ct, () => parity.VerifyCutoverAsync(input, ct));

    public Task<bool> InvalidateTenantCache(InvalidateTenantCacheInput input, CancellationToken ct) =>
        Step(ActivityNames.InvalidateTenantCache, StepSubject.None, ct, async () =>
        {
            await cache.InvalidateAsync(input, ct);
            return true;
        });

    /// <summary>
    /// Writes the audit row. The execution that inserts a run's first final row also records the run's end: a retry or a
    /// redelivery finds its row, and a later final row of the same run (a step after cutover failed) is not the first, so a
    /// run is never counted twice.
    /// </summary>
    public async Task<WriteAuditResult> WriteAudit(WriteAuditInput input, CancellationToken ct)
    {
        var result = await Step(ActivityNames.WriteAudit, new(input.RunId), ct, async () =>
        {
            var written = await audit.WriteAsync(input, ct);
            await NotifyOfAuditAsync(input, ct);
            return written;
        });
        if (result.Inserted && RunOutcomes.Of(input.Event) is not null && await IsRunsFirstEndAsync(input, ct))
        {
            await StepTelemetry.RunEndedAsync(input.RunId, input.Event, input.Details, ct);
        }

        return result;
    }

    /// <summary>
    /// A run that ends otherwise than restored (failed, rejected, timed out, cancelled), is rolled back, or is a dry run whose
    /// report is ready says so from its final audit step, the one step every such path runs; the outbox's key (run, event) makes a retry write nothing new.
    /// </summary>
    private Task NotifyOfAuditAsync(WriteAuditInput input, CancellationToken ct)
    {
        if (NotificationEvents.ForAudit(input.Event) is not { } notificationEvent)
        {
            return Task.CompletedTask;
        }

        string? Detail(string key) => input.Details is not null && input.Details.TryGetValue(key, out var value) && !string.IsNullOrEmpty(value) ? value : null;
        var body = string.Join(
            " ",
            new[]
            {
                Detail("failedStep") is { } step ? $"Step {step}:" : null,
                Detail("reason"),
                Detail("operatorAction") is { } action ? $"Operator action: {action}" : null,
                Detail("parityVerdict") is { } verdict ? $"Parity {verdict}." : null,
                Detail("changes") is { } changes ? $"Changes: {changes}." : null,
                $"Requested by {input.Actor}.",
            }.Where(part => part is not null));
        var subject = $"Restore {input.RunId} {notificationEvent.Replace('_', ' ')}";
        return notifier.NotifyAsync(notificationEvent, new NotifyInput(input.RunId, input.TenantId.ToString(), subject, body), ct);
    }

    private async Task<bool> IsRunsFirstEndAsync(WriteAuditInput input, CancellationToken ct)
    {
        try
        {
            return await audit.IsFirstOfAsync(input.RunId, input.Event, RunOutcomes.Events, ct);
        }
        catch (Npgsql.NpgsqlException)
        {
            return false; // the row is written; a run's telemetry is not worth failing the step for
        }
    }

    public Task<bool> Notify(NotifyInput input, CancellationToken ct) =>
        Step(ActivityNames.Notify, new(input.RunId, input.Tenant), ct, async () =>
        {
            var notificationEvent = input.Event ?? NotificationEvents.Restored;
            if (notificationEvent is not (NotificationEvents.Restored or NotificationEvents.AwaitingApproval))
            {
                throw new Workflow.Errors.InvalidRestoreInputException("event", $"the notify step announces {NotificationEvents.AwaitingApproval} or {NotificationEvents.Restored}, not '{notificationEvent}'");
            }

            await notifier.NotifyAsync(notificationEvent, input, ct);
            return true;
        });

    public Task<DropDerivedDatabaseResult> DropDerivedDatabase(DropDerivedDatabaseInput input, CancellationToken ct) =>
        Step(ActivityNames.DropDerivedDatabase, new(input.RunId, input.Tenant), ct, () => dropper.DropAsync(input, ct));

    public Task<bool> ScheduleRetentionDrop(ScheduleRetentionDropInput input, CancellationToken ct) => ScheduleRetentionDrop(orchestrations, input, ct);

    public Task<bool> CancelRetentionDrop(CancelRetentionDropInput input, CancellationToken ct) => CancelRetentionDrop(terminator, input, ct);

    /// <summary>Stops a pending retention timer (absent or ended: nothing to stop).</summary>
    public static Task<bool> CancelRetentionDrop(IOrchestrationTerminator terminator, CancelRetentionDropInput input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(terminator);
        ArgumentNullException.ThrowIfNull(input);
        return Step(ActivityNames.CancelRetentionDrop, StepSubject.None, ct, () => terminator.TerminateIfActiveAsync(RunIds.Require(input.InstanceId), input.Reason, ct));
    }

    /// <summary>Starts the retention timer instance of a run (its id is deterministic, so a retry finds it).</summary>
    public static Task<bool> ScheduleRetentionDrop(IOrchestrationStarter orchestrations, ScheduleRetentionDropInput input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(orchestrations);
        ArgumentNullException.ThrowIfNull(input);
        return Step(ActivityNames.ScheduleRetentionDrop, new(input.RunId, input.Tenant), ct, () => orchestrations.StartIfAbsentAsync(
            RetentionDropOrchestrator.Name,
            RetentionDropOrchestrator.InstanceIdFor(input.RunId, input.Kind),
            new RetentionDropRequest(input.RunId, input.Live, input.Tenant, input.Stamp, input.DropAfterUtc, input.Kind, input.LiveDatabase),
            ct));
    }
#pragma warning restore CS1591

    private static Task<T> Step<T>(string name, StepSubject subject, CancellationToken ct, Func<Task<T>> run, Func<T, long>? bytesMoved = null) =>
        StepTelemetry.RunAsync(name, subject, run, bytesMoved, ct);
}
