using System.Globalization;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Orchestration;
using RcmPitr.Workflow.Parity;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// The runbook "restore one tenant to a prior moment", as a durable orchestration. Each forward step
/// registers its undo first; any failure before the cutover runs the undos in reverse (unfreeze — only this
/// run's freeze —, drop the copy, delete the dump, release the restored server) and writes an audit row saying
/// how the run ended. From the cutover on, nothing is undone automatically: a failure there leaves the tenant
/// frozen and says what to do.
/// </summary>
public sealed class RestoreTenantOrchestrator
{
    /// <summary>
    /// The orchestrator's registered name, versioned: a change that in-flight runs could not replay gets a new name, and
    /// the old orchestrator stays registered until its runs have drained (ADR 0008). V2: shared restored servers, four eyes
    /// in the workflow, the freeze confirmed before the cutover, retries in the workflow. V3: the change report after the parity
    /// probe, and the approvers notified before the approval gate (<see cref="RestoreTenantV2Orchestrator"/> runs V2's runs).
    /// </summary>
    public const string Name = "RestoreTenantV3";

    private readonly int _version;

    /// <summary>The current version.</summary>
    public RestoreTenantOrchestrator()
        : this(version: 3)
    {
    }

    internal RestoreTenantOrchestrator(int version) => _version = version;

    /// <summary>True for the name of any registered version of this orchestrator (runs of each are restores).</summary>
    public static bool IsRestore(string? name) => name is Name or RestoreTenantV2Orchestrator.Name;

    /// <summary>True for a restore of any registered version or a rollback: the runs that take decisions.</summary>
    public static bool TakesDecisions(string? name) => IsRestore(name) || name == RollbackOrchestrator.Name;

    /// <summary>Runs the restore (or dry run, or snapshot) described by <paramref name="request"/>.</summary>
    public async Task<RestoreResult> RunAsync(IOrchestrationContext context, RestoreRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        var run = new RestoreRun(context, request);
        try
        {
            var tenant = run.Tenant = await run.StepAsync(
                RestoreSteps.Resolve,
                () => run.CallAsync<TenantInfo>(ActivityNames.ResolveTenant, new ResolveTenantInput(request.Tenant, RequireActive: request.Mode == RestoreMode.Restore, request.RestoreTime)),
                DescribeTenant);
            if (request.Mode == RestoreMode.Restore)
            {
                await FreezeAsync(run);
            }

            var pitr = await ProvisionAsync(run);
            await run.StepAsync(
                RestoreSteps.Preflight,
                () => run.CallAsync<PreflightResult>(
                    ActivityNames.Preflight, new PreflightInput(pitr, tenant.Server, request.Tenant, request.Transfer, tenant.Source, tenant.Live, Snapshot: request.Mode == RestoreMode.Snapshot)),
                p => $"PostgreSQL {p.SourceMajorVersion}, database {p.DatabaseSizeBytes} bytes, scratch free {p.ScratchFreeBytes} bytes, live storage: {p.LiveStorage ?? "not checked"}");

            var target = request.Mode == RestoreMode.Snapshot ? DerivedDatabaseKind.AsOf : DerivedDatabaseKind.Restore;
            var copy = await MoveAsync(run, pitr, target);
            var parity = await ProbeParityAsync(run, target);
            if (_version >= 3)
            {
                await CompareChangesAsync(run, target);
            }

            return request.Mode switch
            {
                RestoreMode.DryRun => await FinishDryRunAsync(run, pitr, parity),
                RestoreMode.Snapshot => await FinishSnapshotAsync(run, copy, parity),
                _ => await ApproveAndCutOverAsync(run, copy, parity),
            };
        }
        catch (Exception e) when (!run.CutoverStarted)
        {
            return await CompensateAsync(run, e);
        }
    }

    private static string DescribeTenant(TenantInfo t) =>
        t.Live == t.DatabaseName && t.Source == t.Live
            ? $"{t.DatabaseName} on {t.Server.Name}"
            : $"{t.Live} on {t.Server.Name} (live through its connection reference; {t.Source} at the restore time)";

    /// <summary>
    /// Runbook steps 3–4. The runbook mode keeps them as two steps (a checksummed dump file, then the load);
    /// the other modes are one step that fills the new database directly.
    /// </summary>
    private static async Task<RestoreDatabaseResult> MoveAsync(RestoreRun run, DbServerInfo pitr, DerivedDatabaseKind target)
    {
        var request = run.Request;
        var tenant = run.RequireTenant;
        run.OnFailure("delete dump", async () =>
        {
            var deleted = await run.CallAsync<DeleteDumpResult>(ActivityNames.DeleteDump, new DeleteDumpInput(run.RunId));
            return $"{deleted.FilesDeleted} scratch files deleted";
        });
        if (request.Transfer == TransferMode.Runbook)
        {
            var dump = await run.StepAsync(
                RestoreSteps.Dump,
                () => run.CallAsync<DumpTenantResult>(ActivityNames.DumpTenant, new DumpTenantInput(run.RunId, pitr, request.Tenant, run.Stamp, tenant.Source)),
                d => $"{d.SizeBytes} bytes, sha256 {d.Sha256[..12]}");
            run.OnFailure("drop the restored copy", () => DropAsync(run, target));
            return await run.StepAsync(
                RestoreSteps.Load,
                () => run.CallAsync<RestoreDatabaseResult>(ActivityNames.RestoreDatabase, new RestoreDatabaseInput(run.RunId, tenant.Server, request.Tenant, run.Stamp, dump.DumpPath, dump.Sha256, target)),
                r => $"{r.DatabaseName}, {r.SizeBytes} bytes");
        }

        run.OnFailure("drop the restored copy", () => DropAsync(run, target));
        var moved = await run.StepAsync(
            RestoreSteps.Transfer,
            () => run.CallAsync<MoveTenantResult>(ActivityNames.MoveTenant, new MoveTenantInput(run.RunId, pitr, tenant.Server, request.Tenant, run.Stamp, target, request.Transfer) { SourceDatabase = tenant.Source }),
            m => string.Create(CultureInfo.InvariantCulture, $"{m.DatabaseName}, {m.Mode.ToString().ToLowerInvariant()}: {m.Tables} tables, {m.BytesMoved} bytes moved in {m.Seconds:0.0} s, {m.SizeBytes} bytes on disk{(m.Reused ? " (finished by an earlier attempt)" : string.Empty)}{(m.PiecesKept > 0 ? $" (resumed: {m.BytesKept} bytes kept from an interrupted attempt)" : string.Empty)}"));
        return new RestoreDatabaseResult(moved.DatabaseName, moved.SizeBytes, moved.Reused);
    }

    private static async Task FreezeAsync(RestoreRun run)
    {
        var tenant = run.RequireTenant;
        var request = run.Request;
        run.OnFailure("unfreeze tenant", async () =>
        {
            var unfrozen = await run.CallAsync<UnfreezeTenantResult>(
                ActivityNames.UnfreezeTenant, new UnfreezeTenantInput(run.RunId, tenant.TenantId, request.RequestedBy, $"PITR restore {run.RunId} ended without cutover"));
            return unfrozen.Outcome == UnfreezeOutcome.NotFrozenByThisRun
                ? "left as it is: the tenant is not frozen by this run (another run's or an operator's status)"
                : unfrozen.Outcome.ToString();
        });
        await run.StepAsync(
            RestoreSteps.Freeze,
            () => run.CallAsync<FreezeTenantResult>(ActivityNames.FreezeTenant, new FreezeTenantInput(run.RunId, tenant.TenantId, request.RequestedBy, $"PITR restore to {request.RestoreTime.UtcDateTime:O}: {request.Reason}")),
            _ => "read_only");
        await run.WaitForStatusCachesAsync();
    }

    /// <summary>
    /// Runbook step 2. The restored server for (source, T) is shared: this run acquires a hold on it (the first holder has it
    /// created), and its undo releases only that hold — the server is deleted when its last holder lets go.
    /// </summary>
    private static async Task<DbServerInfo> ProvisionAsync(RestoreRun run)
    {
        var source = run.RequireTenant.Server;
        var name = ServerNames.Pitr(source.Name, RestoreStamp.Parse(run.Stamp));
        run.OnFailure("release the restored server", () => ReleaseServerAsync(run, source, name));
        var acquired = await run.StepAsync(
            RestoreSteps.Provision,
            () => run.CallAsync<AcquireServerResult>(ActivityNames.AcquireServer, new AcquireServerInput(run.RunId, source, run.Request.RestoreTime)),
            r => r.Created ? $"{r.ServerName} (created)" : $"{r.ServerName} (shared: held by {string.Join(", ", r.Holders)})");
        return await run.StepAsync(RestoreSteps.WaitReady, () => WaitUntilReadyAsync(run, new GetServerStateInput(source, name, acquired.OperationUrl)), s => $"{s.Name} at {s.Fqdn}:{s.Port}");
    }

    private static async Task<string?> ReleaseServerAsync(RestoreRun run, DbServerInfo source, string name)
    {
        var released = await run.CallAsync<ReleaseServerResult>(ActivityNames.ReleaseServer, new ReleaseServerInput(run.RunId, source, name));
        return !released.Held ? $"{name}: not held by this run, nothing released"
            : released.Deleted ? $"{name} released and deleted (last holder)"
            : $"{name} released; kept for {string.Join(", ", released.RemainingHolders)}";
    }

    // Polls on durable timers until Ready. A server the platform does not show yet is still provisioning within the grace
    // after the acquire; a failure says what the platform said; the whole wait is bounded by ProvisionTimeout.
    private static async Task<DbServerInfo> WaitUntilReadyAsync(RestoreRun run, GetServerStateInput poll)
    {
        var name = poll.ServerName;
        var accepted = run.Context.CurrentUtcDateTime;
        var deadline = accepted.Add(run.Settings.ProvisionTimeout);
        var interval = run.Settings.FirstPollInterval;
        while (true)
        {
            var status = await run.CallAsync<ServerStatus>(ActivityNames.GetServerState, poll);
            switch (status.State)
            {
                case ServerState.Ready when status.Server is not null:
                    return status.Server;
                case ServerState.NotFound when run.Context.CurrentUtcDateTime < accepted.Add(run.Settings.ProvisionNotFoundGrace):
                    break;
                case ServerState.NotFound:
                    throw new InvalidOperationException(
                        $"the restored server {name} was still not found {run.Settings.ProvisionNotFoundGrace} after its restore was accepted (Restore:ProvisionNotFoundGrace): {status.Detail}");
                case ServerState.Failed:
                    throw new InvalidOperationException($"the restored server {name} is {status.State}: {status.Detail}");
            }

            if (run.Context.CurrentUtcDateTime.Add(interval) > deadline)
            {
                throw new TimeoutException(
                    $"{name} was not ready within {run.Settings.ProvisionTimeout} (Restore:ProvisionTimeout); last state {status.State}" +
                    (status.Detail is null ? string.Empty : $": {status.Detail}"));
            }

            await run.DelayAsync(interval);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, run.Settings.MaxPollInterval.Ticks));
        }
    }

    private static Task<ParityReport> ProbeParityAsync(RestoreRun run, DerivedDatabaseKind target)
    {
        var input = new ParityProbeInput(run.RunId, run.RequireTenant.Server, run.Request.Tenant, run.Stamp, target, run.Settings.CanaryTables, run.Settings.ParityFactor, run.RequireTenant.Live);
        return run.StepAsync(
            RestoreSteps.Parity,
            async () =>
            {
                var parity = await run.CallAsync<ParityReport>(ActivityNames.ParityProbe, input);
                run.Timeline.Parity = parity;
                if (parity.Verdict == ParityVerdict.Fail)
                {
                    var failed = parity.Rows.Where(r => r.Verdict == ParityVerdict.Fail).Select(r => $"{r.Table}: {r.Note}");
                    throw new InvalidOperationException("parity failed — " + string.Join("; ", failed));
                }

                return parity;
            },
            p => p.Verdict.ToString());
    }

    /// <summary>
    /// The change report (V3): what the cutover discards and brings back, per table. It informs the approver and does not
    /// gate the run: when it cannot be made (after the step's retries), the step shows why and the approver decides without it.
    /// </summary>
    private static async Task CompareChangesAsync(RestoreRun run, DerivedDatabaseKind target)
    {
        var input = new CompareChangesInput(run.RunId, run.RequireTenant.Server, run.Request.Tenant, run.Stamp, target, run.RequireTenant.Live);
        await run.InformAsync(
            RestoreSteps.Changes,
            async () => run.Timeline.Changes = await run.CallAsync<ChangeSummary>(ActivityNames.CompareChanges, input),
            ChangeText.Describe);
    }

    /// <summary>
    /// Tells the approvers (V3) that the run waits for them, with the parity verdict and the change summary; the notifier adds
    /// the links. Like the report, it never gates the run: an outbox that cannot be written shows as the failed step.
    /// </summary>
    private static async Task NotifyApproversAsync(RestoreRun run, ParityReport parity)
    {
        var request = run.Request;
        var body = string.Join(
            " ",
            $"Restore of tenant {request.Tenant} to {request.RestoreTime.UtcDateTime:O} awaits a second person's decision.",
            $"Requested by {request.RequestedBy}: {request.Reason}.",
            $"Parity {parity.Verdict}.",
            run.Timeline.Changes is { } changes ? $"Changes: {ChangeText.Describe(changes)}." : "No change report (see its step).");
        var message = new NotifyInput(run.RunId, request.Tenant, $"Restore {run.RunId} awaits approval", body) { Event = NotifyEvents.AwaitingApproval };
        await run.InformAsync(RestoreSteps.NotifyApprovers, () => run.CallAsync<bool>(ActivityNames.Notify, message), _ => "queued for every notification target");
    }

    private async Task<RestoreResult> ApproveAndCutOverAsync(RestoreRun run, RestoreDatabaseResult copy, ParityReport parity)
    {
        if (_version >= 3)
        {
            // Decisions are taken from here on (the engines keep one raised before the wait begins), so the approvers' links
            // work the moment the message arrives. A run stopped before its gate clears the flag as it compensates.
            run.Timeline.AwaitingApproval = true;
            await NotifyApproversAsync(run, parity);
        }

        var decision = await run.StepAsync(RestoreSteps.Approval, () => run.WaitForDecisionAsync(run.Settings.ApprovalTimeout), d => $"{(d.Approved ? "approved" : "rejected")} by {d.DecidedBy}");
        if (!decision.Approved)
        {
            throw new RunStoppedException(RestoreOutcome.Rejected, $"rejected by {decision.DecidedBy}" + (decision.Comment is null ? string.Empty : $": {decision.Comment}"));
        }

        await run.ConfirmFreezeBeforeCutoverAsync();
        var cutover = new CutoverSteps(run, copy, parity, decision);
        return await cutover.RunAsync();
    }

    private static async Task<RestoreResult> FinishDryRunAsync(RestoreRun run, DbServerInfo pitr, ParityReport parity)
    {
        await WriteAuditAsync(run, AuditEvents.PitrDryRun, parity, extra: new() { ["pitrServer"] = pitr.Name });
        await run.StepAsync(RestoreSteps.CleanUp, () => CleanUpAsync(run, dropCopy: DerivedDatabaseKind.Restore), d => d);
        run.Timeline.Phase = "completed";
        run.Publish();
        return new RestoreResult(RestoreOutcome.DryRunCompleted, run.Request.Tenant, run.Stamp, run.RequireTenant.Live, null, Summarize(parity), "dry run: every step but freeze, approval and cutover; all copies removed");
    }

    private static async Task<RestoreResult> FinishSnapshotAsync(RestoreRun run, RestoreDatabaseResult copy, ParityReport parity)
    {
        await WriteAuditAsync(run, AuditEvents.PitrSnapshot, parity, extra: new() { ["snapshotDatabase"] = copy.DatabaseName });
        await run.StepAsync(RestoreSteps.CleanUp, () => CleanUpAsync(run, dropCopy: null), d => d);
        run.Timeline.Phase = "completed";
        run.Publish();
        return new RestoreResult(RestoreOutcome.SnapshotCreated, run.Request.Tenant, run.Stamp, run.RequireTenant.Live, copy.DatabaseName, Summarize(parity), $"as-of copy {copy.DatabaseName} kept until an operator drops it");
    }

    internal static async Task<RestoreResult> CompensateAsync(RestoreRun run, Exception error)
    {
        var step = error is StepFailedException s ? s.Step : run.Timeline.ToStatus().Steps.LastOrDefault()?.Name ?? RestoreSteps.Resolve;
        var reason = RestoreRun.Describe(error);
        run.Timeline.Phase = "compensating";
        // A run stopped between the approvers' notification and its gate took decisions until now: no longer.
        run.Timeline.AwaitingApproval = false;
        run.Timeline.Error = error is RunStoppedException ? null : $"{step}: {reason}";
        run.Publish();
        var failures = await run.CompensateAsync();
        if (run.Tenant is not null)
        {
            try
            {
                await WriteAuditAsync(run, AuditEventFor(error), run.Timeline.Parity, extra: new() { ["failedStep"] = step, ["reason"] = reason });
            }
            catch (StepFailedException audit)
            {
                failures.Add($"audit: {RestoreRun.Describe(audit)}");
            }
        }

        run.Timeline.Phase = error is RunStoppedException ? "stopped" : "failed";
        if (failures.Count > 0)
        {
            run.Timeline.OperatorAction = "Compensation was incomplete; finish by hand: " + string.Join("; ", failures);
        }

        run.Publish();
        return error is RunStoppedException stopped && failures.Count == 0
            ? new RestoreResult(stopped.Outcome, run.Request.Tenant, run.Stamp, run.Tenant?.Live, null, run.Timeline.Parity is { } p ? Summarize(p) : null, stopped.Message)
            : throw new RestoreFailedException(step, reason, run.Timeline.OperatorAction);
    }

    /// <summary>The audit event for how a run ended before its cutover: a rejection, a timeout and a cancel are audited as what they are.</summary>
    internal static string AuditEventFor(Exception error) => error is RunStoppedException stopped
        ? stopped.Outcome switch
        {
            RestoreOutcome.Rejected => AuditEvents.PitrRejected,
            RestoreOutcome.ApprovalTimedOut => AuditEvents.PitrApprovalTimedOut,
            RestoreOutcome.Cancelled => AuditEvents.PitrCancelled,
            _ => AuditEvents.PitrFailed,
        }
        : AuditEvents.PitrFailed;

    internal static async Task<string?> DropAsync(RestoreRun run, DerivedDatabaseKind kind)
    {
        var dropped = await run.CallAsync<DropDerivedDatabaseResult>(
            ActivityNames.DropDerivedDatabase, new DropDerivedDatabaseInput(run.RunId, run.RequireTenant.Server, run.Request.Tenant, run.Stamp, kind, run.RequireTenant.Live));
        return dropped.NotOurs ?? (dropped.Dropped ? $"{dropped.DatabaseName} dropped" : $"{dropped.DatabaseName} was not there");
    }

    internal static async Task<string> CleanUpAsync(RestoreRun run, DerivedDatabaseKind? dropCopy)
    {
        var source = run.RequireTenant.Server;
        var name = ServerNames.Pitr(source.Name, RestoreStamp.Parse(run.Stamp));
        if (dropCopy is { } kind)
        {
            await DropAsync(run, kind);
        }

        var server = await ReleaseServerAsync(run, source, name);
        var dump = await run.CallAsync<DeleteDumpResult>(ActivityNames.DeleteDump, new DeleteDumpInput(run.RunId));
        return $"{server}; {dump.FilesDeleted} scratch files ({dump.BytesFreed} bytes) deleted";
    }

    internal static Task<WriteAuditResult> WriteAuditAsync(RestoreRun run, string auditEvent, ParityReport? parity, Dictionary<string, string> extra)
    {
        var details = new Dictionary<string, string>(extra)
        {
            ["runId"] = run.RunId,
            ["mode"] = run.Request.Mode.ToString(),
            ["restoreTime"] = run.Request.RestoreTime.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["requestedById"] = run.Request.RequesterId,
        };
        if (parity is not null)
        {
            details["parity"] = string.Join("; ", Summarize(parity).Rows);
            details["parityVerdict"] = parity.Verdict.ToString();
        }

        if (run.Timeline.Changes is { } changes)
        {
            details["changes"] = ChangeText.Describe(changes);
        }

        var input = new WriteAuditInput(run.RunId, run.RequireTenant.TenantId, auditEvent, run.Request.RequestedBy, run.Request.Reason, details);
        return run.StepAsync(RestoreSteps.Audit, () => run.CallAsync<WriteAuditResult>(ActivityNames.WriteAudit, input), a => $"{auditEvent} #{a.AuditId}");
    }

    internal static ParityReportSummary Summarize(ParityReport parity) =>
        new(parity.Verdict.ToString(), parity.Rows.Select(r => $"{r.Table} live={r.LiveCount?.ToString(CultureInfo.InvariantCulture) ?? "-"} restored={r.RestoredCount?.ToString(CultureInfo.InvariantCulture) ?? "-"} {r.Verdict}").ToList());
}
