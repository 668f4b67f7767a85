using System.Globalization;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// Runbook steps 6–9 after approval: cut over, invalidate caches, verify, unfreeze, audit, notify, clean
/// up, and schedule the drop of the kept database. None of these is compensated: once the cutover has
/// begun, undoing by machine could lose what the tenant has now. A failure leaves the tenant frozen and
/// tells the operator exactly what state to check and how to finish or roll back.
/// </summary>
internal sealed class CutoverSteps(RestoreRun run, RestoreDatabaseResult copy, ParityReport parity, ApprovalDecision decision)
{
    private readonly TenantInfo _tenant = run.RequireTenant;

    public async Task<RestoreResult> RunAsync()
    {
        try
        {
            var (live, kept) = await CutOverAsync();
            try
            {
                await AfterCutoverAsync(live, kept);
            }
            catch (StepFailedException e)
            {
                throw Fail(e.Step, RestoreRun.Describe(e),
                    $"The cutover is done ({live} is live) but '{e.Step}' did not finish, so the tenant may still be read_only (frozen by this run). " +
                    $"Either check {live} and finish by hand — set the tenant active with the platform's tenant-status tool and invalidate its caches " +
                    $"(SELECT pg_notify('tenant.status.changed', '{_tenant.TenantId}') on the master database) — or roll the cutover back with " +
                    $"'rcm-pitr rollback {run.RunId}' (POST /api/restores/{run.RunId}/rollback), which needs a second person's approval.");
            }

            return Completed(live, kept);
        }
        catch (RestoreFailedException failed)
        {
            await AuditFailureAsync(failed);
            throw;
        }
    }

    private async Task AuditFailureAsync(RestoreFailedException failed)
    {
        try
        {
            await RestoreTenantOrchestrator.WriteAuditAsync(run, AuditEvents.PitrFailed, parity, extra: new()
            {
                ["failedStep"] = failed.Step,
                ["reason"] = failed.Reason,
                ["operatorAction"] = failed.OperatorAction ?? string.Empty,
            });
        }
        catch (StepFailedException)
        {
            // The timeline already shows the audit step failed; the run's own failure is what must surface.
        }
    }

    private RestoreResult Completed(string live, string? kept)
    {
        run.Timeline.Phase = "completed";
        run.Publish();
        return new RestoreResult(RestoreOutcome.Restored, run.Request.Tenant, run.Stamp, live, kept, RestoreTenantOrchestrator.Summarize(parity),
            kept is null ? $"{live} is live (flip-the-ref)" : $"{live} is the restored copy; the previous database is kept as {kept}");
    }

    private async Task<(string Live, string? Kept)> CutOverAsync()
    {
        try
        {
            if (run.Request.Strategy == CutoverStrategy.FlipTheRef)
            {
                var flipped = await run.StepAsync(
                    RestoreSteps.Cutover,
                    () => run.CallAsync<FlipRefCutoverResult>(ActivityNames.FlipRefCutover, new FlipRefCutoverInput(run.RunId, _tenant.TenantId, _tenant.Server, run.Request.Tenant, run.Stamp)),
                    f => $"db_config_ref {f.PreviousRef} -> {f.NewRef}");
                return (flipped.DatabaseName, null);
            }

            var swapped = await run.StepAsync(
                RestoreSteps.Cutover,
                () => run.CallAsync<SwapCutoverResult>(ActivityNames.SwapCutover, new SwapCutoverInput(run.RunId, _tenant.Server, run.Request.Tenant, run.Stamp, _tenant.Live)),
                s => $"{copy.DatabaseName} -> {s.CanonicalDatabase}; previous kept as {s.KeptDatabase}; {s.TerminatedConnections} sessions ended");
            return (swapped.CanonicalDatabase, swapped.KeptDatabase);
        }
        catch (StepFailedException e)
        {
            throw Fail(RestoreSteps.Cutover, RestoreRun.Describe(e),
                $"The tenant stays read_only (frozen by this run). The swap is a single transaction, so either the restored copy or the previous " +
                $"database is live under {_tenant.Live} on {_tenant.Server.Name}: its comment says which (rcm-pitr:loaded run={run.RunId} for the " +
                $"restored copy). If the restored copy is live, roll back with 'rcm-pitr rollback {run.RunId}' or set the tenant active by hand; " +
                $"if the previous database is still live, nothing was changed: set the tenant active with the platform's tenant-status tool. " +
                $"If {_tenant.Live} refuses connections (datallowconn false), run ALTER DATABASE \"{_tenant.Live}\" WITH ALLOW_CONNECTIONS true first.");
        }
    }

    private async Task AfterCutoverAsync(string live, string? kept)
    {
        await run.StepAsync(
            RestoreSteps.InvalidateCache,
            () => run.CallAsync<bool>(ActivityNames.InvalidateTenantCache, new InvalidateTenantCacheInput(_tenant.TenantId)),
            _ => "pg_notify('tenant.status.changed')");
        var expected = parity.Rows.Where(r => r.RestoredCount is not null).ToDictionary(r => r.Table, r => r.RestoredCount!.Value);
        await run.StepAsync(
            RestoreSteps.Verify,
            () => run.CallAsync<VerifyCutoverResult>(ActivityNames.VerifyCutover, new VerifyCutoverInput(_tenant.Server, live, expected)),
            v => string.Join(", ", v.Counts.Select(c => $"{c.Key}={c.Value.ToString(CultureInfo.InvariantCulture)}")));
        await run.StepAsync(
            RestoreSteps.Unfreeze,
            () => run.CallAsync<UnfreezeTenantResult>(ActivityNames.UnfreezeTenant, new UnfreezeTenantInput(run.RunId, _tenant.TenantId, run.Request.RequestedBy, "PITR restore complete")),
            u => u.Outcome == UnfreezeOutcome.NotFrozenByThisRun ? "left as it is: the tenant's status was changed by someone else since this run froze it" : u.Outcome.ToString());
        await RestoreTenantOrchestrator.WriteAuditAsync(run, AuditEvents.PitrRestored, parity, extra: new()
        {
            ["approvedBy"] = decision.DecidedBy,
            ["strategy"] = run.Request.Strategy.ToString(),
            ["liveDatabase"] = live,
            ["keptDatabase"] = kept ?? string.Empty,
        });
        await run.StepAsync(
            RestoreSteps.Notify,
            () => run.CallAsync<bool>(ActivityNames.Notify, new NotifyInput(run.RunId, run.Request.Tenant, $"Tenant {run.Request.Tenant} restored to {run.Request.RestoreTime.UtcDateTime:O}", $"{live} is live; approved by {decision.DecidedBy}.")),
            _ => "queued for every notification target");
        await run.StepAsync(RestoreSteps.CleanUp, () => RestoreTenantOrchestrator.CleanUpAsync(run, dropCopy: null), d => d);
        if (kept is not null)
        {
            var dropAt = run.Context.CurrentUtcDateTime.Add(run.Settings.PrePitrRetention);
            await run.StepAsync(
                RestoreSteps.ScheduleDrop,
                () => run.CallAsync<bool>(ActivityNames.ScheduleRetentionDrop, new ScheduleRetentionDropInput(run.RunId, _tenant.Server, run.Request.Tenant, run.Stamp, dropAt, DerivedDatabaseKind.PrePitr, live)),
                _ => $"{kept} will be dropped after {dropAt:O}");
        }
    }

    private RestoreFailedException Fail(string step, string reason, string operatorAction)
    {
        run.Timeline.Phase = "failed";
        run.Timeline.Error = $"{step}: {reason}";
        run.Timeline.OperatorAction = operatorAction;
        run.Publish();
        return new RestoreFailedException(step, reason, operatorAction);
    }
}
