using System.Globalization;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// The runbook's rollback, held to the same rules as a restore: it replaces the tenant's live database, so a second
/// person approves it (or an operator overrides, audited), the tenant is frozen and the status caches expire before
/// the swap back, and the tenant is unfrozen and audited after it. A swap-and-keep cutover is swapped back (the
/// restored copy is parked as <c>_rollback_</c> and dropped after the retention period); a flip-the-ref cutover gets
/// its previous reference back. The restore run's pending drop of the kept database is stopped.
/// </summary>
public sealed class RollbackOrchestrator
{
    /// <summary>The orchestrator's registered name, versioned like <see cref="RestoreTenantOrchestrator.Name"/>. V2: approval, freeze and cache wait.</summary>
    public const string Name = "RollbackRestoreV2";

    /// <summary>Runs the rollback.</summary>
    public async Task<RestoreResult> RunAsync(IOrchestrationContext context, RollbackRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        var run = new RestoreRun(context, new RestoreRequest(request.Tenant, request.RestoreTime, RestoreMode.Restore, request.Strategy, request.Reason, request.RequestedBy)
        {
            RequestedById = request.RequestedById,
            Settings = request.Settings,
        });
        try
        {
            run.Tenant = await run.StepAsync(
                RestoreSteps.Resolve,
                () => run.CallAsync<TenantInfo>(ActivityNames.ResolveTenant, new ResolveTenantInput(request.Tenant, RequireActive: false)),
                t => t.Live);
            var decision = await DecideAsync(run, request);
            await FreezeAsync(run, request);
            await run.ConfirmFreezeBeforeCutoverAsync();
            return await RollBackAsync(run, request, decision);
        }
        catch (Exception e) when (!run.CutoverStarted)
        {
            return await RestoreTenantOrchestrator.CompensateAsync(run, e);
        }
    }

    private static async Task<ApprovalDecision> DecideAsync(RestoreRun run, RollbackRequest request)
    {
        if (request.Override)
        {
            return await run.StepAsync(
                RestoreSteps.Approval,
                () => Task.FromResult(run.Override()),
                d => $"approval overridden by {d.DecidedBy} (operator)");
        }

        var decision = await run.StepAsync(RestoreSteps.Approval, () => run.WaitForDecisionAsync(run.Settings.ApprovalTimeout), d => $"{(d.Approved ? "approved" : "rejected")} by {d.DecidedBy}");
        return decision.Approved
            ? decision
            : throw new RunStoppedException(RestoreOutcome.Rejected, $"rejected by {decision.DecidedBy}" + (decision.Comment is null ? string.Empty : $": {decision.Comment}"));
    }

    private static async Task FreezeAsync(RestoreRun run, RollbackRequest request)
    {
        var tenant = run.RequireTenant;
        var tookOver = false;
        run.OnFailure("unfreeze tenant", async () =>
        {
            if (tookOver)
            {
                return $"left frozen: the freeze was taken over from run {request.RestoreRunId}, whose cutover still needs an operator";
            }

            var unfrozen = await run.CallAsync<UnfreezeTenantResult>(
                ActivityNames.UnfreezeTenant, new UnfreezeTenantInput(run.RunId, tenant.TenantId, request.RequestedBy, $"rollback {run.RunId} ended without swapping back"));
            return unfrozen.Outcome.ToString();
        });
        var frozen = await run.StepAsync(
            RestoreSteps.Freeze,
            () => run.CallAsync<FreezeTenantResult>(
                ActivityNames.FreezeTenant,
                new FreezeTenantInput(run.RunId, tenant.TenantId, request.RequestedBy, $"PITR rollback of {request.RestoreRunId}: {request.Reason}", TakeOverFrom: request.RestoreRunId)),
            f => f.TookOver ? $"read_only (taken over from run {request.RestoreRunId})" : "read_only");
        tookOver = frozen.TookOver;
        await run.WaitForStatusCachesAsync();
    }

    private static async Task<RestoreResult> RollBackAsync(RestoreRun run, RollbackRequest request, ApprovalDecision decision)
    {
        var tenant = run.RequireTenant;
        string live, parked;
        try
        {
            (live, parked) = await SwapBackAsync(run, request);
        }
        catch (StepFailedException e)
        {
            throw Fail(run, e.Step, RestoreRun.Describe(e),
                $"The tenant stays read_only (frozen by this rollback). The swap back is a single transaction, so the live name holds either the restored " +
                $"copy (comment rcm-pitr:loaded run={request.RestoreRunId}) or the previous database: check which on {tenant.Server.Name}, then retry with " +
                $"'rcm-pitr rollback {request.RestoreRunId}', or set the tenant active by hand when the live database is the one you want.");
        }

        try
        {
            await run.StepAsync(
                RestoreSteps.CancelRetention,
                () => run.CallAsync<bool>(ActivityNames.CancelRetentionDrop, new CancelRetentionDropInput(RetentionDropOrchestrator.InstanceIdFor(request.RestoreRunId), $"rolled back by {run.RunId}")),
                stopped => stopped ? "stopped" : "none pending");
            await run.StepAsync(
                RestoreSteps.InvalidateCache,
                () => run.CallAsync<bool>(ActivityNames.InvalidateTenantCache, new InvalidateTenantCacheInput(tenant.TenantId)),
                _ => "pg_notify('tenant.status.changed')");
            await run.StepAsync(
                RestoreSteps.Verify,
                () => run.CallAsync<VerifyCutoverResult>(ActivityNames.VerifyCutover, new VerifyCutoverInput(tenant.Server, live, new Dictionary<string, long>())),
                v => string.Join(", ", v.Counts.Select(c => $"{c.Key}={c.Value.ToString(CultureInfo.InvariantCulture)}")));
            await run.StepAsync(
                RestoreSteps.Unfreeze,
                () => run.CallAsync<UnfreezeTenantResult>(ActivityNames.UnfreezeTenant, new UnfreezeTenantInput(run.RunId, tenant.TenantId, request.RequestedBy, "PITR rollback complete")),
                u => u.Outcome.ToString());
            await RestoreTenantOrchestrator.WriteAuditAsync(run, AuditEvents.PitrRolledBack, parity: null, extra: new()
            {
                ["restoreRunId"] = request.RestoreRunId,
                ["parkedDatabase"] = parked,
                ["approvedBy"] = decision.DecidedBy,
                ["override"] = request.Override ? "true" : "false",
            });
            if (request.Strategy == CutoverStrategy.SwapAndKeep)
            {
                var dropAt = run.Context.CurrentUtcDateTime.Add(run.Settings.PrePitrRetention);
                await run.StepAsync(
                    RestoreSteps.ScheduleDrop,
                    () => run.CallAsync<bool>(ActivityNames.ScheduleRetentionDrop, new ScheduleRetentionDropInput(request.RestoreRunId, tenant.Server, request.Tenant, run.Stamp, dropAt, DerivedDatabaseKind.Rollback, live)),
                    _ => $"{parked} will be dropped after {dropAt:O}");
            }
        }
        catch (StepFailedException e)
        {
            throw Fail(run, e.Step, RestoreRun.Describe(e),
                $"The rollback swapped back ({live} is the pre-restore database again) but '{e.Step}' did not finish, so the tenant may still be read_only " +
                $"(frozen by this rollback): set it active with the platform's tenant-status tool and invalidate its caches " +
                $"(SELECT pg_notify('tenant.status.changed', '{tenant.TenantId}') on the master database).");
        }

        run.Timeline.Phase = "completed";
        run.Publish();
        return new RestoreResult(RestoreOutcome.RolledBack, request.Tenant, run.Stamp, live, parked, null,
            request.Strategy == CutoverStrategy.SwapAndKeep
                ? $"rolled back run {request.RestoreRunId}; the restored copy is parked as {parked} and dropped after {run.Settings.PrePitrRetention}"
                : $"rolled back run {request.RestoreRunId}; the tenant's reference points at {live} again, the restored copy {parked} stays under its name");
    }

    private static async Task<(string Live, string Parked)> SwapBackAsync(RestoreRun run, RollbackRequest request)
    {
        var tenant = run.RequireTenant;
        if (request.Strategy == CutoverStrategy.FlipTheRef)
        {
            var flipped = await run.StepAsync(
                RestoreSteps.Rollback,
                () => run.CallAsync<RollbackFlipResult>(ActivityNames.RollbackFlip, new RollbackFlipInput(request.RestoreRunId, tenant.TenantId)),
                r => $"db_config_ref back to {r.RestoredRef}; {r.ParkedDatabase} stays under its name");
            var back = await run.CallAsync<TenantInfo>(ActivityNames.ResolveTenant, new ResolveTenantInput(request.Tenant, RequireActive: false));
            return (back.Live, flipped.ParkedDatabase);
        }

        var swapped = await run.StepAsync(
            RestoreSteps.Rollback,
            () => run.CallAsync<RollbackSwapResult>(ActivityNames.RollbackSwap, new RollbackSwapInput(request.RestoreRunId, tenant.Server, request.Tenant, run.Stamp, request.LiveDatabase ?? tenant.Live)),
            r => $"previous database is {r.CanonicalDatabase} again; restored copy parked as {r.ParkedDatabase}");
        return (swapped.CanonicalDatabase, swapped.ParkedDatabase);
    }

    private static RestoreFailedException Fail(RestoreRun run, string step, string reason, string operatorAction)
    {
        run.Timeline.Phase = "failed";
        run.Timeline.Error = $"{step}: {reason}";
        run.Timeline.OperatorAction = operatorAction;
        run.Publish();
        return new RestoreFailedException(step, reason, operatorAction);
    }
}
