using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Tests.Restores;

public sealed class RestoreTenantOrchestratorTests
{
    private readonly RestoreTenantOrchestrator _orchestrator = new();

    [Fact]
    public async Task RunAsync_ApprovedSwap_FollowsTheRunbookInOrder()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var result = await _orchestrator.RunAsync(context, Script.Request(transfer: TransferMode.Runbook));

        Assert.Equal(
        [
            ActivityNames.ResolveTenant, ActivityNames.FreezeTenant, ActivityNames.AcquireServer, ActivityNames.GetServerState,
            ActivityNames.Preflight, ActivityNames.DumpTenant, ActivityNames.RestoreDatabase, ActivityNames.ParityProbe, ActivityNames.CompareChanges,
            ActivityNames.Notify, ActivityNames.ConfirmFreeze, ActivityNames.SwapCutover, ActivityNames.InvalidateTenantCache, ActivityNames.VerifyCutover, ActivityNames.UnfreezeTenant,
            ActivityNames.WriteAudit, ActivityNames.Notify, ActivityNames.ReleaseServer, ActivityNames.DeleteDump, ActivityNames.ScheduleRetentionDrop,
        ], context.CallNames);
        Assert.Equal(RestoreOutcome.Restored, result.Outcome);
        Assert.Equal("tenant_acme", result.LiveDatabase);
        Assert.Equal("tenant_acme_pre_pitr_202604221430", result.KeptDatabase);
        Assert.Equal(AuditEvents.PitrRestored, Assert.Single(context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit)).Event);
        Assert.Equal("bob", context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Details!["approvedBy"]);
        Assert.Equal("alice", context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Actor);
    }

    [Fact]
    public async Task RunAsync_ChangeReport_IsMadeAfterParityPublishedAndAudited()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        await _orchestrator.RunAsync(context, Script.Request());

        var compare = context.InputsOf<CompareChangesInput>(ActivityNames.CompareChanges).Single();
        Assert.Equal((Script.Live, "acme", DerivedDatabaseKind.Restore, "tenant_acme"), (compare.Live, compare.Tenant, compare.Copy, compare.LiveDatabase));
        Assert.Equal([ActivityNames.ParityProbe, ActivityNames.CompareChanges], context.CallNames.SkipWhile(n => n != ActivityNames.ParityProbe).Take(2));
        var status = Assert.IsType<RestoreStatus>(context.CustomStatus);
        Assert.Equivalent(Script.Changes(), status.Changes, strict: true);
        var step = status.Steps.Single(s => s.Name == RestoreSteps.Changes);
        Assert.Equal("succeeded", step.Outcome);
        Assert.Equal("2 of 14 tables change: 120 rows written after T leave with the cutover, 4 deleted rows come back, 7 rows differ", step.Detail);
        Assert.Equal(step.Detail, context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Details!["changes"]);
    }

    [Fact]
    public async Task RunAsync_ChangeReportFailsForGood_StillWaitsForTheDecisionAndRestores()
    {
        var context = Script.HappyPath().On(ActivityNames.CompareChanges, _ => throw new InvalidOperationException("could not compare members.member"));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var result = await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.Restored, result.Outcome);
        Assert.Equal(5, context.Calls.Count(c => c.Name == ActivityNames.CompareChanges));
        var status = Assert.IsType<RestoreStatus>(context.CustomStatus);
        Assert.Null(status.Changes);
        var step = status.Steps.Single(s => s.Name == RestoreSteps.Changes);
        Assert.Equal(("failed", "could not compare members.member"), (step.Outcome, step.Detail));
        var notified = context.InputsOf<NotifyInput>(ActivityNames.Notify).First();
        Assert.Equal(NotifyEvents.AwaitingApproval, notified.Event);
        Assert.Contains("No change report", notified.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_AwaitingApproval_NotifiesTheApproversBeforeTheGateWithParityAndChanges()
    {
        var context = Script.HappyPath();
        bool? awaitingWhenNotified = null;
        context.On<NotifyInput, bool>(ActivityNames.Notify, _ =>
        {
            awaitingWhenNotified ??= Assert.IsType<RestoreStatus>(context.CustomStatus).AwaitingApproval;
            return true;
        });

        var result = await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.ApprovalTimedOut, result.Outcome);
        var notified = Assert.Single(context.InputsOf<NotifyInput>(ActivityNames.Notify));
        Assert.Equal((NotifyEvents.AwaitingApproval, "acme"), (notified.Event, notified.Tenant));
        Assert.Contains("awaits approval", notified.Subject, StringComparison.Ordinal);
        Assert.Contains("Requested by alice: bad migration.", notified.Body, StringComparison.Ordinal);
        Assert.Contains("Parity Pass.", notified.Body, StringComparison.Ordinal);
        Assert.Contains("120 rows written after T leave with the cutover", notified.Body, StringComparison.Ordinal);
        var log = context.Log.ToList();
        Assert.True(log.IndexOf("call " + ActivityNames.Notify) < log.FindIndex(l => l.StartsWith("timer +1.00:00:00", StringComparison.Ordinal)), string.Join(", ", log));
        Assert.True(awaitingWhenNotified, "the status must say the run takes decisions before the approvers are told: their links must work at once");
    }

    [Fact]
    public async Task RunAsync_CancelledWhileTheApproversAreNotified_EndsCancelledNoLongerTakingDecisions()
    {
        var context = Script.HappyPath();
        context.On<NotifyInput, bool>(ActivityNames.Notify, _ =>
        {
            context.Raise(RestoreEvents.Cancel, new CancelRequest("carol", "wrong tenant"));
            return true;
        });

        var result = await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.Cancelled, result.Outcome);
        var status = Assert.IsType<RestoreStatus>(context.CustomStatus);
        Assert.False(status.AwaitingApproval);
        Assert.Equal("stopped", status.Phase);
    }

    [Theory]
    [InlineData(RestoreMode.DryRun)]
    [InlineData(RestoreMode.Snapshot)]
    public async Task RunAsync_WithoutApproval_ReportsChangesAndNotifiesNoApprover(RestoreMode mode)
    {
        var context = Script.HappyPath();

        await _orchestrator.RunAsync(context, Script.Request(mode));

        Assert.Single(context.InputsOf<CompareChangesInput>(ActivityNames.CompareChanges));
        Assert.Empty(context.InputsOf<NotifyInput>(ActivityNames.Notify));
    }

    [Fact]
    public async Task RunAsync_Version2_NeitherReportsChangesNorNotifiesApprovers()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var result = await new RestoreTenantV2Orchestrator().RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.Restored, result.Outcome);
        Assert.DoesNotContain(ActivityNames.CompareChanges, context.CallNames);
        Assert.Null(Assert.Single(context.InputsOf<NotifyInput>(ActivityNames.Notify)).Event);
    }

    [Fact]
    public async Task RunAsync_DefaultTransfer_MovesTheDatabaseInOneStreamingStep()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var result = await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.Restored, result.Outcome);
        Assert.Equal([ActivityNames.Preflight, ActivityNames.MoveTenant, ActivityNames.ParityProbe], context.CallNames.SkipWhile(n => n != ActivityNames.Preflight).Take(3));
        Assert.DoesNotContain(ActivityNames.DumpTenant, context.CallNames);
        Assert.DoesNotContain(ActivityNames.RestoreDatabase, context.CallNames);
        Assert.Equal(TransferMode.Streaming, context.InputsOf<PreflightInput>(ActivityNames.Preflight).Single().Transfer);
        var move = context.InputsOf<MoveTenantInput>(ActivityNames.MoveTenant).Single();
        Assert.Equal((TransferMode.Streaming, DerivedDatabaseKind.Restore, Script.Pitr, Script.Live), (move.Mode, move.Target, move.Source, move.Live));
        var step = Assert.IsType<RestoreStatus>(context.CustomStatus).Steps.Single(s => s.Name == RestoreSteps.Transfer);
        Assert.Equal("succeeded", step.Outcome);
        Assert.Contains("streaming: 5 tables, 700 bytes moved", step.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_TransferFailsForGood_DropsTheCopyAndCompensates()
    {
        var context = Script.HappyPath().On(ActivityNames.MoveTenant, _ => throw new TimeoutException("the transfer made no progress for 600 s"));

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => _orchestrator.RunAsync(context, Script.Request(transfer: TransferMode.Parallel)));

        Assert.Equal(RestoreSteps.Transfer, error.Step);
        Assert.Contains("no progress", error.Reason, StringComparison.Ordinal);
        Assert.Equal(5, context.Calls.Count(c => c.Name == ActivityNames.MoveTenant));
        Assert.All(context.InputsOf<MoveTenantInput>(ActivityNames.MoveTenant), i => Assert.Equal(TransferMode.Parallel, i.Mode));
        Assert.Equal(
            [ActivityNames.DropDerivedDatabase, ActivityNames.DeleteDump, ActivityNames.ReleaseServer, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit],
            context.CallNames.SkipWhile(n => n != ActivityNames.MoveTenant).SkipWhile(n => n == ActivityNames.MoveTenant));
    }

    [Fact]
    public async Task RunAsync_Freeze_WaitsOneStatusCacheTtlBeforeProvisioning()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(["call " + ActivityNames.FreezeTenant, "timer +00:00:30", "call " + ActivityNames.AcquireServer], context.Log.Skip(1).Take(3));
        Assert.Equal(Script.RestoreTime, context.InputsOf<AcquireServerInput>(ActivityNames.AcquireServer).Single().RestoreTime);
        Assert.Equal("pg-us-east-1-pitr-20260422143015", context.InputsOf<ReleaseServerInput>(ActivityNames.ReleaseServer).Single().ServerName);
    }

    [Fact]
    public async Task RunAsync_ServerProvisioning_PollsWithDoublingDurableTimers()
    {
        var context = Script.HappyPath(pollsBeforeReady: 4);
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(5, context.CallNames.Count(n => n == ActivityNames.GetServerState));
        var waits = context.Timers.Skip(1).Take(4).Zip(context.Timers.Take(4).Skip(0), (later, earlier) => later - earlier).ToList();
        Assert.Equal([TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5)], waits);
    }

    [Fact]
    public async Task RunAsync_ServerNotFoundOnTheFirstPollsAfterTheAcquire_KeepsPollingAndPassesTheOperation()
    {
        // ARM can answer 404 for a while after accepting the PUT: that is not a failed restore.
        var polls = 0;
        var context = Script.HappyPath()
            .On<AcquireServerInput, AcquireServerResult>(ActivityNames.AcquireServer, i => new AcquireServerResult("pg-us-east-1-pitr-20260422143015", ServerState.Provisioning, true, [i.RunId], "https://arm.example/operations/1"))
            .On<GetServerStateInput, ServerStatus>(ActivityNames.GetServerState, i => polls++ < 2
                ? new ServerStatus(i.ServerName, ServerState.NotFound, Detail: "no such server in Azure")
                : new ServerStatus(i.ServerName, ServerState.Ready, Script.Pitr));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var result = await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.Restored, result.Outcome);
        Assert.Equal(3, polls);
        Assert.All(context.InputsOf<GetServerStateInput>(ActivityNames.GetServerState), i => Assert.Equal("https://arm.example/operations/1", i.OperationUrl));
    }

    [Fact]
    public async Task RunAsync_ServerStillNotFoundAfterTheGrace_FailsNamingTheSettingAndCompensates()
    {
        var context = Script.HappyPath()
            .On<GetServerStateInput, ServerStatus>(ActivityNames.GetServerState, i => new ServerStatus(i.ServerName, ServerState.NotFound, Detail: "no such server in Azure"));

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => _orchestrator.RunAsync(context, Script.Request()));

        Assert.Equal(RestoreSteps.WaitReady, error.Step);
        Assert.Contains("still not found 00:15:00 after its restore was accepted (Restore:ProvisionNotFoundGrace)", error.Reason, StringComparison.Ordinal);
        Assert.True(context.CurrentUtcDateTime - context.Timers[0] < TimeSpan.FromMinutes(30));
        Assert.Equal([ActivityNames.ReleaseServer, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit], context.CallNames.SkipWhile(n => n != ActivityNames.ReleaseServer));
    }

    [Fact]
    public async Task RunAsync_RestoreFailedInAzure_FailsWithAzuresError()
    {
        var context = Script.HappyPath()
            .On<GetServerStateInput, ServerStatus>(ActivityNames.GetServerState, i => new ServerStatus(i.ServerName, ServerState.Failed, Detail: "the restore failed in Azure (operation Failed): ServerRestoreFailed: insufficient quota"));

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => _orchestrator.RunAsync(context, Script.Request()));

        Assert.Contains("ServerRestoreFailed: insufficient quota", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ServerNeverReady_GivesUpAfterTheTimeoutAndCompensates()
    {
        var context = Script.HappyPath(pollsBeforeReady: int.MaxValue);

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => _orchestrator.RunAsync(context, Script.Request()));

        Assert.Equal(RestoreSteps.WaitReady, error.Step);
        Assert.Contains("not ready within 04:00:00 (Restore:ProvisionTimeout); last state Provisioning", error.Reason, StringComparison.Ordinal);
        Assert.True(context.CurrentUtcDateTime - context.Timers[0] <= TimeSpan.FromHours(4));
        Assert.Equal([ActivityNames.ReleaseServer, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit], context.CallNames.SkipWhile(n => n != ActivityNames.ReleaseServer));
    }

    [Fact]
    public async Task RunAsync_Rejected_CompensatesInReverseAndAuditsTheFailure()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(false, "bob", "counts look wrong"));

        var result = await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.Rejected, result.Outcome);
        Assert.Contains("counts look wrong", result.Detail, StringComparison.Ordinal);
        Assert.Equal(AuditEvents.PitrRejected, context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Event);
        Assert.Equal(
            [ActivityNames.DropDerivedDatabase, ActivityNames.DeleteDump, ActivityNames.ReleaseServer, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit],
            context.CallNames.SkipWhile(n => n != ActivityNames.Notify).Skip(1));
        Assert.Equal(DerivedDatabaseKind.Restore, context.InputsOf<DropDerivedDatabaseInput>(ActivityNames.DropDerivedDatabase).Single().Kind);
        Assert.DoesNotContain(ActivityNames.SwapCutover, context.CallNames);
    }

    [Fact]
    public async Task RunAsync_NoDecisionInTime_TimesOutAndCompensates()
    {
        var context = Script.HappyPath();

        var result = await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.ApprovalTimedOut, result.Outcome);
        Assert.Contains(ActivityNames.UnfreezeTenant, context.CallNames);
        Assert.Equal(AuditEvents.PitrApprovalTimedOut, context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Event);
        var status = Assert.IsType<RestoreStatus>(context.CustomStatus);
        Assert.False(status.AwaitingApproval);
        Assert.Equal("stopped", status.Steps.Single(s => s.Name == RestoreSteps.Approval).Outcome);
        Assert.DoesNotContain(status.Steps, s => s.Outcome == "running");
        Assert.Equal("stopped", status.Phase);
        Assert.DoesNotContain(ActivityNames.SwapCutover, context.CallNames);
    }

    [Fact]
    public async Task RunAsync_CancelledDuringDump_StopsBeforeTheNextStepAndCompensates()
    {
        var context = Script.HappyPath();
        var dumped = false;
        context.On<DumpTenantInput, DumpTenantResult>(ActivityNames.DumpTenant, _ =>
        {
            dumped = true;
            context.Raise(RestoreEvents.Cancel, new CancelRequest("carol", "wrong time"));
            return new DumpTenantResult("/scratch/x.dump", 1, new string('b', 64), false);
        });

        var result = await _orchestrator.RunAsync(context, Script.Request(transfer: TransferMode.Runbook));

        Assert.True(dumped);
        Assert.Equal(RestoreOutcome.Cancelled, result.Outcome);
        Assert.Contains("carol", result.Detail, StringComparison.Ordinal);
        Assert.Equal(AuditEvents.PitrCancelled, context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Event);
        Assert.DoesNotContain(ActivityNames.RestoreDatabase, context.CallNames);
        // The undo of the load is registered before the load step, so it runs (as a no-op drop) too.
        Assert.Equal([ActivityNames.DropDerivedDatabase, ActivityNames.DeleteDump, ActivityNames.ReleaseServer, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit], context.CallNames.SkipWhile(n => n != ActivityNames.DumpTenant).Skip(1));
    }

    [Fact]
    public async Task RunAsync_ParityFails_StopsBeforeApprovalNamingTheTable()
    {
        var context = Script.HappyPath().On<ParityProbeInput, ParityReport>(ActivityNames.ParityProbe, _ => Script.Report(ParityVerdict.Fail));

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => _orchestrator.RunAsync(context, Script.Request()));

        Assert.Equal(RestoreSteps.Parity, error.Step);
        Assert.Contains("members.member", error.Reason, StringComparison.Ordinal);
        Assert.Contains(ActivityNames.UnfreezeTenant, context.CallNames);
        var status = Assert.IsType<RestoreStatus>(context.CustomStatus);
        Assert.Equal("failed", status.Phase);
        Assert.NotNull(status.Parity);
    }

    [Fact]
    public async Task RunAsync_HundredsOfCanaryTables_PublishesAStatusWithinTheBudgetAndAuditsEveryRow()
    {
        var rows = Enumerable.Range(0, 400).Select(i => new ParityRow($"public.canary_{i:000}", 1000 + i, 1000 + i, ParityVerdict.Pass, "equal")).ToList();
        var context = Script.HappyPath().On<ParityProbeInput, ParityReport>(ActivityNames.ParityProbe, _ => ParityReport.From("tenant_acme", "tenant_acme_restore_202604221430", rows));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var result = await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.Restored, result.Outcome);
        var status = Assert.IsType<RestoreStatus>(context.CustomStatus);
        Assert.InRange(RestoreStatusBudget.SizeOf(status), 1, RestoreStatusBudget.DefaultMaxBytes);
        Assert.Equal(400, status.Parity!.Rows.Count + status.Parity.RowsOmitted);
        Assert.Equal(400, context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Details!["parity"].Split("; ").Length);
    }

    [Fact]
    public async Task RunAsync_RefusalFromAnActivity_IsNotRetried()
    {
        var context = Script.HappyPath().On(ActivityNames.Preflight, _ => throw new PreflightFailedException(["extension 'citext' is missing"]));

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => _orchestrator.RunAsync(context, Script.Request()));

        Assert.Equal(RestoreSteps.Preflight, error.Step);
        Assert.Contains("citext", error.Reason, StringComparison.Ordinal);
        Assert.Single(context.Calls, c => c.Name == ActivityNames.Preflight);
    }

    [Fact]
    public async Task RunAsync_TransientFailure_IsRetriedWithDurableBackoffThenFails()
    {
        var context = Script.HappyPath().On(ActivityNames.DumpTenant, _ => throw new IOException("connection reset"));

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => _orchestrator.RunAsync(context, Script.Request(transfer: TransferMode.Runbook)));

        Assert.Equal(RestoreSteps.Dump, error.Step);
        Assert.Equal(5, context.Calls.Count(c => c.Name == ActivityNames.DumpTenant));
        Assert.Contains(ActivityNames.DeleteDump, context.CallNames);
        var dump = Assert.IsType<RestoreStatus>(context.CustomStatus).Steps.Single(s => s.Name == RestoreSteps.Dump);
        Assert.Equal("failed", dump.Outcome);
        Assert.Equal([1, 2, 3, 4], dump.Attempts!.Select(a => a.Attempt));
        Assert.All(dump.Attempts!, a => Assert.Equal((ActivityNames.DumpTenant, "connection reset"), (a.Activity, a.Reason)));
        Assert.Equal(
            [TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(120)],
            dump.Attempts!.Select(a => a.RetryAt - a.FailedAt));
    }

    [Fact]
    public async Task RunAsync_ApprovalByTheRequester_IsRefusedRecordedAndTheRunWaitsForASecondPerson()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, " ALICE ", "raised straight into the engine, not through the API"));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var result = await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.Restored, result.Outcome);
        var decisions = Assert.IsType<RestoreStatus>(context.CustomStatus).Decisions!;
        Assert.Equal([(" ALICE ", false), ("bob", true)], decisions.Select(d => (d.By, d.Accepted)));
        Assert.Contains("four eyes", decisions[0].Note, StringComparison.Ordinal);
        Assert.Equal("bob", context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single(a => a.Event == AuditEvents.PitrRestored).Details!["approvedBy"]);
    }

    [Fact]
    public async Task RunAsync_DecisionReadLate_IsTimedWhenItWasTakenNotWhenTheRunReadIt()
    {
        // A run busy elsewhere reads an approval after the API already refused later attempts because of it: the timeline,
        // merged with those refusals by time, must still show the approval first.
        var context = Script.HappyPath();
        var takenAt = new DateTimeOffset(2026, 4, 23, 8, 59, 0, TimeSpan.Zero);
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob", DecidedAt: takenAt));

        await _orchestrator.RunAsync(context, Script.Request());

        var accepted = Assert.Single(Assert.IsType<RestoreStatus>(context.CustomStatus).Decisions!);
        Assert.Equal(takenAt.UtcDateTime, accepted.At);
        Assert.True(context.CurrentUtcDateTime > accepted.At);
    }

    [Fact]
    public async Task RunAsync_OnlyTheRequesterDecides_NeverCutsOverAndTimesOut()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "alice"));

        var result = await _orchestrator.RunAsync(context, Script.Request());

        Assert.Equal(RestoreOutcome.ApprovalTimedOut, result.Outcome);
        Assert.DoesNotContain(ActivityNames.SwapCutover, context.CallNames);
        Assert.False(Assert.Single(Assert.IsType<RestoreStatus>(context.CustomStatus).Decisions!).Accepted);
    }

    [Fact]
    public async Task RunAsync_DeciderWithTheRequestersIdUnderAnotherName_IsRefused()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "Bob Builder", DecidedById: "0b1c-OID"));

        var result = await _orchestrator.RunAsync(context, Script.Request() with { RequestedById = "0b1c-oid" });

        Assert.Equal(RestoreOutcome.ApprovalTimedOut, result.Outcome);
        Assert.DoesNotContain(ActivityNames.SwapCutover, context.CallNames);
    }

    [Fact]
    public async Task RunAsync_TenantUnfrozenByAnotherWhileAwaitingApproval_NeverSwapsAndCompensates()
    {
        var context = Script.HappyPath().On(ActivityNames.ConfirmFreeze, _ => throw new TenantStatusConflictException("acme", "active", "'read_only' by run run-1"));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => _orchestrator.RunAsync(context, Script.Request()));

        Assert.Equal(RestoreSteps.ConfirmFreeze, error.Step);
        Assert.DoesNotContain(ActivityNames.SwapCutover, context.CallNames);
        Assert.Equal(
            [ActivityNames.DropDerivedDatabase, ActivityNames.DeleteDump, ActivityNames.ReleaseServer, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit],
            context.CallNames.SkipWhile(n => n != ActivityNames.ConfirmFreeze).Skip(1));
    }

    [Fact]
    public async Task RunAsync_CutoverFails_LeavesTheTenantFrozenAndTellsTheOperator()
    {
        var context = Script.HappyPath().On(ActivityNames.SwapCutover, _ => throw new DatabaseStateConflictException("tenant_acme_pre_pitr_202604221430 already exists"));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => _orchestrator.RunAsync(context, Script.Request()));

        Assert.Equal(RestoreSteps.Cutover, error.Step);
        Assert.Contains("read_only", error.OperatorAction, StringComparison.Ordinal);
        Assert.Contains("rcm-pitr rollback run-1", error.OperatorAction, StringComparison.Ordinal);
        Assert.DoesNotContain(ActivityNames.UnfreezeTenant, context.CallNames);
        Assert.DoesNotContain(ActivityNames.DropDerivedDatabase, context.CallNames);
        Assert.Equal(AuditEvents.PitrFailed, context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Event);
    }

    [Fact]
    public async Task RunAsync_FlipTheRef_FlipsAndSchedulesNoDrop()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var result = await _orchestrator.RunAsync(context, Script.Request(strategy: CutoverStrategy.FlipTheRef));

        Assert.Contains(ActivityNames.FlipRefCutover, context.CallNames);
        Assert.DoesNotContain(ActivityNames.SwapCutover, context.CallNames);
        Assert.DoesNotContain(ActivityNames.ScheduleRetentionDrop, context.CallNames);
        Assert.Equal("tenant_acme_restore_202604221430", result.LiveDatabase);
        Assert.Equal("tenant_acme_restore_202604221430", context.InputsOf<VerifyCutoverInput>(ActivityNames.VerifyCutover).Single().Database);
    }

    [Fact]
    public async Task RunAsync_DryRun_SkipsFreezeApprovalAndCutoverAndRemovesEverything()
    {
        var context = Script.HappyPath();

        var result = await _orchestrator.RunAsync(context, Script.Request(RestoreMode.DryRun));

        Assert.Equal(RestoreOutcome.DryRunCompleted, result.Outcome);
        Assert.False(context.InputsOf<ResolveTenantInput>(ActivityNames.ResolveTenant).Single().RequireActive);
        Assert.DoesNotContain(ActivityNames.FreezeTenant, context.CallNames);
        Assert.DoesNotContain(ActivityNames.SwapCutover, context.CallNames);
        Assert.Equal([ActivityNames.WriteAudit, ActivityNames.DropDerivedDatabase, ActivityNames.ReleaseServer, ActivityNames.DeleteDump], context.CallNames.SkipWhile(n => n != ActivityNames.CompareChanges).Skip(1));
        Assert.Equal(AuditEvents.PitrDryRun, context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Event);
    }

    [Fact]
    public async Task RunAsync_Snapshot_LoadsAnAsOfCopyAndKeepsIt()
    {
        var context = Script.HappyPath();

        var result = await _orchestrator.RunAsync(context, Script.Request(RestoreMode.Snapshot));

        Assert.Equal(RestoreOutcome.SnapshotCreated, result.Outcome);
        Assert.Equal(DerivedDatabaseKind.AsOf, context.InputsOf<MoveTenantInput>(ActivityNames.MoveTenant).Single().Target);
        Assert.Equal(DerivedDatabaseKind.AsOf, context.InputsOf<ParityProbeInput>(ActivityNames.ParityProbe).Single().RestoredDatabase);
        Assert.DoesNotContain(ActivityNames.DropDerivedDatabase, context.CallNames);
        Assert.DoesNotContain(ActivityNames.FreezeTenant, context.CallNames);
        Assert.Equal("tenant_acme_asof_202604221430", result.KeptDatabase);
    }

    [Fact]
    public async Task RunAsync_UnknownTenant_FailsAtResolveWithNothingToUndo()
    {
        var context = Script.HappyPath().On(ActivityNames.ResolveTenant, _ => throw new TenantNotFoundException("acme"));

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => _orchestrator.RunAsync(context, Script.Request()));

        Assert.Equal(RestoreSteps.Resolve, error.Step);
        Assert.Equal([ActivityNames.ResolveTenant], context.CallNames);
    }

    [Fact]
    public async Task RunAsync_Timeline_ShowsEveryStepAndAwaitingApproval()
    {
        var context = Script.HappyPath();
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        await _orchestrator.RunAsync(context, Script.Request(transfer: TransferMode.Runbook));

        Assert.Contains(context.StatusHistory.OfType<RestoreStatus>(), s => s.AwaitingApproval);
        var final = Assert.IsType<RestoreStatus>(context.CustomStatus);
        Assert.Equal("completed", final.Phase);
        Assert.All(final.Steps, s => Assert.Equal("succeeded", s.Outcome));
        Assert.Contains(final.Steps, s => s.Name == RestoreSteps.Dump && s.Detail!.Contains("500 bytes", StringComparison.Ordinal));
        Assert.False(final.AwaitingApproval);
    }
}
