using RcmPitr.Scenarios.Tests.Activities;
using RcmPitr.Scenarios.Tests.Engines;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Scenarios.Tests;

/// <summary>
/// The orchestrators' scenarios, written once and run on each engine by a derived class (<c>…OnEmbeddedEngine</c>,
/// <c>…OnDurableTaskSdk</c>, each with an <c>engine</c> trait): the same requests, the same scripted activities, the
/// same assertions on the activity calls, the output, the failure and the timeline in custom status. Durable timers
/// are a fraction of a second (<see cref="Fast"/>), and every wait is bounded polling of the instance's status.
/// </summary>
public abstract partial class OrchestratorScenarios : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private ScenarioEngine? _engine;

    /// <summary>The scripted activities of this test (register changes before the engine starts).</summary>
    protected FakeActivities Activities { get; } = new();

    /// <summary>Every duration of a run in milliseconds, so each scenario takes seconds.</summary>
    protected static RestoreSettings Fast { get; } = new()
    {
        StatusCacheTtl = TimeSpan.FromMilliseconds(200),
        FirstPollInterval = TimeSpan.FromMilliseconds(100),
        MaxPollInterval = TimeSpan.FromMilliseconds(200),
        ProvisionTimeout = TimeSpan.FromSeconds(30),
        ApprovalTimeout = TimeSpan.FromSeconds(60),
        PrePitrRetention = TimeSpan.FromSeconds(1),
        RetryAttempts = 3,
        RetryFirstInterval = TimeSpan.FromMilliseconds(200),
        RetryMaxInterval = TimeSpan.FromMilliseconds(400),
    };

    /// <summary>Starts the engine under test over <paramref name="activities"/>.</summary>
    protected abstract Task<ScenarioEngine> StartEngineAsync(FakeActivities activities);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    // ---- Restore -------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Restore_Approved_RunsTheRunbookInOrderAndEndsRestored()
    {
        var (engine, run) = await StartRestoreAsync();
        await WaitUntilAsync(run, s => s.AwaitingApproval, "the run awaits approval");

        await engine.RaiseEventAsync(run, RestoreEvents.Approval, new ApprovalDecision(true, "bob", "checked the counts"));
        var end = await WaitForEndAsync(run);

        Assert.Equal(RunState.Completed, end.State);
        var result = end.Output<RestoreResult>();
        Assert.Equal((RestoreOutcome.Restored, FakeActivities.LiveDatabase, $"tenant_acme_pre_pitr_{Stamp}"), (result.Outcome, result.LiveDatabase, result.KeptDatabase));
        Assert.Equal(
        [
            ActivityNames.ResolveTenant, ActivityNames.FreezeTenant, ActivityNames.AcquireServer, ActivityNames.GetServerState,
            ActivityNames.Preflight, ActivityNames.MoveTenant, ActivityNames.ParityProbe, ActivityNames.CompareChanges, ActivityNames.Notify,
            ActivityNames.ConfirmFreeze, ActivityNames.SwapCutover,
            ActivityNames.InvalidateTenantCache, ActivityNames.VerifyCutover, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit, ActivityNames.Notify,
            ActivityNames.ReleaseServer, ActivityNames.DeleteDump, ActivityNames.ScheduleRetentionDrop,
        ], Activities.Names);
        var audit = Assert.Single(Activities.CallsOf(ActivityNames.WriteAudit)).InputAs<WriteAuditInput>();
        Assert.Equal((AuditEvents.PitrRestored, "alice", "bob"), (audit.Event, audit.Actor, audit.Details!["approvedBy"]));
        Assert.All(Activities.Calls, c => Assert.Equal(1, c.Attempt));
        var timeline = end.Timeline;
        Assert.Equal(("completed", false), (timeline.Phase, timeline.AwaitingApproval));
        Assert.All(timeline.Steps, s => Assert.Equal("succeeded", s.Outcome));
        var decision = Assert.Single(timeline.Decisions!);
        Assert.Equal(("bob", "approve", true), (decision.By, decision.Decision, decision.Accepted));
    }

    [Fact]
    public async Task Restore_AwaitingApproval_CustomStatusIsTheTimelineSoFar()
    {
        var (engine, run) = await StartRestoreAsync();

        // Decisions are taken from the approvers' notification on; the gate's own step follows it.
        var waiting = await WaitUntilAsync(run, s => s.AwaitingApproval && s.Timeline.Steps.LastOrDefault()?.Name == RestoreSteps.Approval, "the run awaits approval");

        var timeline = waiting.Timeline;
        Assert.Equal(RunState.Running, waiting.State);
        Assert.Equal((FakeActivities.Tenant, nameof(RestoreMode.Restore), Stamp, "running"), (timeline.Tenant, timeline.Mode, timeline.Stamp, timeline.Phase));
        Assert.Equal(
        [
            (RestoreSteps.Resolve, "succeeded"), (RestoreSteps.Freeze, "succeeded"), (RestoreSteps.CacheWait, "succeeded"), (RestoreSteps.Provision, "succeeded"),
            (RestoreSteps.WaitReady, "succeeded"), (RestoreSteps.Preflight, "succeeded"), (RestoreSteps.Transfer, "succeeded"), (RestoreSteps.Parity, "succeeded"),
            (RestoreSteps.Changes, "succeeded"), (RestoreSteps.NotifyApprovers, "succeeded"), (RestoreSteps.Approval, "running"),
        ], timeline.Steps.Select(s => (s.Name, s.Outcome)));
        Assert.All(timeline.Steps.SkipLast(1), s => Assert.True(s.EndedAt >= s.StartedAt, $"{s.Name} ended before it started"));
        Assert.Equal(Workflow.Parity.ParityVerdict.Pass, timeline.Parity!.Verdict);
        Assert.Equal((1, 20L, 1L), (timeline.Changes!.TablesChanged, timeline.Changes.OnlyInLive, timeline.Changes.OnlyInCopy));
        Assert.Equal(TableMatch.PrimaryKey, Assert.Single(timeline.Changes.Tables).MatchedBy);
        Assert.Null(timeline.Error);
        await engine.RaiseEventAsync(run, RestoreEvents.Approval, new ApprovalDecision(true, "bob"));
        Assert.Equal(RestoreOutcome.Restored, (await WaitForEndAsync(run)).Output<RestoreResult>().Outcome);
    }

    [Fact]
    public async Task Restore_Rejected_CompensatesInReverseAndEndsRejected()
    {
        var (engine, run) = await StartRestoreAsync();
        await WaitUntilAsync(run, s => s.AwaitingApproval, "the run awaits approval");

        await engine.RaiseEventAsync(run, RestoreEvents.Approval, new ApprovalDecision(false, "bob", "wrong second"));
        var end = await WaitForEndAsync(run);

        Assert.Equal(RunState.Completed, end.State);
        Assert.Equal(RestoreOutcome.Rejected, end.Output<RestoreResult>().Outcome);
        AssertCompensatedAfter(ActivityNames.Notify, AuditEvents.PitrRejected);
        Assert.DoesNotContain(ActivityNames.SwapCutover, Activities.Names);
        var approval = end.Timeline.Steps.Single(s => s.Name == RestoreSteps.Approval);
        Assert.Equal(("stopped", "succeeded"), (end.Timeline.Phase, approval.Outcome));
        Assert.Contains("rejected by bob", approval.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_OfThePreviousVersion_StillRunsItsOwnStepsToTheEnd()
    {
        var (engine, run) = await StartRestoreAsync(orchestrator: RestoreTenantV2Orchestrator.Name);
        await WaitUntilAsync(run, s => s.AwaitingApproval, "the run awaits approval");

        await engine.RaiseEventAsync(run, RestoreEvents.Approval, new ApprovalDecision(true, "bob"));
        var end = await WaitForEndAsync(run);

        Assert.Equal(RestoreOutcome.Restored, end.Output<RestoreResult>().Outcome);
        Assert.DoesNotContain(ActivityNames.CompareChanges, Activities.Names);
        Assert.Equal([ActivityNames.ParityProbe, ActivityNames.ConfirmFreeze], Activities.Names.SkipWhile(n => n != ActivityNames.ParityProbe).Take(2));
        Assert.Null(end.Timeline.Changes);
    }

    [Fact]
    public async Task Restore_NoDecisionInTime_TimesOutAndCompensates()
    {
        var (_, run) = await StartRestoreAsync(Request() with { Settings = Fast with { ApprovalTimeout = TimeSpan.FromSeconds(1) } });

        var end = await WaitForEndAsync(run);

        Assert.Equal(RestoreOutcome.ApprovalTimedOut, end.Output<RestoreResult>().Outcome);
        AssertCompensatedAfter(ActivityNames.Notify, AuditEvents.PitrApprovalTimedOut);
        Assert.Equal("stopped", end.Timeline.Phase);
    }

    [Fact]
    public async Task Restore_CancelledWhileAwaitingApproval_CompensatesAndEndsCancelled()
    {
        var (engine, run) = await StartRestoreAsync();
        await WaitUntilAsync(run, s => s.AwaitingApproval, "the run awaits approval");

        await engine.RaiseEventAsync(run, RestoreEvents.Cancel, new CancelRequest("carol", "wrong tenant"));
        var end = await WaitForEndAsync(run);

        var result = end.Output<RestoreResult>();
        Assert.Equal(RestoreOutcome.Cancelled, result.Outcome);
        Assert.Contains("carol", result.Detail, StringComparison.Ordinal);
        AssertCompensatedAfter(ActivityNames.Notify, AuditEvents.PitrCancelled);
        Assert.False(end.Timeline.AwaitingApproval);
    }

    [Fact]
    public async Task Restore_ApprovalRaisedBeforeTheWait_IsKeptAndDecidesTheRun()
    {
        var parity = Activities.Hold(ActivityNames.ParityProbe);
        var (engine, run) = await StartRestoreAsync();
        await parity.Reached.WaitAsync(Patience, TestContext.Current.CancellationToken);

        // The run is inside the parity probe: the approval gate does not exist yet.
        await engine.RaiseEventAsync(run, RestoreEvents.Approval, new ApprovalDecision(true, "bob"));
        var before = await GetAsync(run);
        parity.Release();
        var end = await WaitForEndAsync(run);

        Assert.DoesNotContain(before.Timeline.Steps, s => s.Name == RestoreSteps.Approval);
        Assert.Equal(RestoreOutcome.Restored, end.Output<RestoreResult>().Outcome);
        Assert.Equal("bob", Assert.Single(end.Timeline.Decisions!).By);
    }

    [Fact]
    public async Task Restore_ApprovalByTheRequester_IsRefusedAndTheRunWaitsForASecondPerson()
    {
        var (engine, run) = await StartRestoreAsync();
        await WaitUntilAsync(run, s => s.AwaitingApproval, "the run awaits approval");

        await engine.RaiseEventAsync(run, RestoreEvents.Approval, new ApprovalDecision(true, "alice"));
        await WaitUntilAsync(run, s => s.CustomStatusJson is not null && s.Timeline.Decisions is { Count: 1 }, "the requester's decision is recorded");
        var refused = await GetAsync(run);
        var callsWhenRefused = Activities.Names;
        await engine.RaiseEventAsync(run, RestoreEvents.Approval, new ApprovalDecision(true, "bob"));
        var end = await WaitForEndAsync(run);

        Assert.Equal((RunState.Running, true), (refused.State, refused.Timeline.AwaitingApproval));
        Assert.Contains("four eyes", refused.Timeline.Decisions!.Single().Note, StringComparison.Ordinal);
        Assert.DoesNotContain(ActivityNames.ConfirmFreeze, callsWhenRefused);
        Assert.Equal(RestoreOutcome.Restored, end.Output<RestoreResult>().Outcome);
        Assert.Equal([("alice", false), ("bob", true)], end.Timeline.Decisions!.Select(d => (d.By, d.Accepted)));
    }

    [Fact]
    public async Task Restore_TransientFailure_IsRetriedAndShownAsAnAttempt()
    {
        Activities.Fail(ActivityNames.MoveTenant, attempt => attempt == 1 ? new TimeoutException("the transfer made no progress for 600 s") : null);
        var (engine, run) = await StartRestoreAsync();
        await WaitUntilAsync(run, s => s.AwaitingApproval, "the run awaits approval");

        await engine.RaiseEventAsync(run, RestoreEvents.Approval, new ApprovalDecision(true, "bob"));
        var end = await WaitForEndAsync(run);

        Assert.Equal(RestoreOutcome.Restored, end.Output<RestoreResult>().Outcome);
        var moves = Activities.CallsOf(ActivityNames.MoveTenant);
        Assert.Equal([1, 2], moves.Select(c => c.Attempt));
        Assert.True(moves[1].At - moves[0].At >= Fast.RetryFirstInterval, $"the retry came {moves[1].At - moves[0].At} after the failure, before its durable timer");
        var step = end.Timeline.Steps.Single(s => s.Name == RestoreSteps.Transfer);
        Assert.Equal("succeeded", step.Outcome);
        var attempt = Assert.Single(step.Attempts!);
        Assert.Equal((1, ActivityNames.MoveTenant), (attempt.Attempt, attempt.Activity));
        Assert.Contains("no progress", attempt.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_RefusalFromAnActivity_IsNotRetriedAndTheRunCompensates()
    {
        Activities.Fail(ActivityNames.Preflight, _ => new PreflightFailedException(["pg_dump 15 cannot dump a PostgreSQL 17 server"]));
        var (_, run) = await StartRestoreAsync();

        var end = await WaitForEndAsync(run);

        Assert.Equal(RunState.Failed, end.State);
        Assert.EndsWith(nameof(RestoreFailedException), end.FailureType, StringComparison.Ordinal);
        Assert.Contains("pg_dump 15", end.FailureMessage, StringComparison.Ordinal);
        Assert.Single(Activities.CallsOf(ActivityNames.Preflight));
        var preflight = end.Timeline.Steps.Single(s => s.Name == RestoreSteps.Preflight);
        Assert.Equal("failed", preflight.Outcome);
        Assert.Null(preflight.Attempts);
        Assert.Equal(
            [ActivityNames.ReleaseServer, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit],
            Activities.Names.SkipWhile(n => n != ActivityNames.Preflight).Skip(1));
        Assert.Equal(AuditEvents.PitrFailed, Activities.CallsOf(ActivityNames.WriteAudit).Single().InputAs<WriteAuditInput>().Event);
        Assert.Equal("failed", end.Timeline.Phase);
        Assert.StartsWith(RestoreSteps.Preflight, end.Timeline.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_FailureAfterFreeze_CompensatesEveryStepInReverse()
    {
        Activities.Fail(ActivityNames.MoveTenant, _ => new InvalidOperationException("could not connect to the restored server"));
        var (_, run) = await StartRestoreAsync();

        var end = await WaitForEndAsync(run);

        Assert.Equal(RunState.Failed, end.State);
        Assert.Equal(Fast.RetryAttempts, Activities.CallsOf(ActivityNames.MoveTenant).Count);
        Assert.Equal(
            [ActivityNames.DropDerivedDatabase, ActivityNames.DeleteDump, ActivityNames.ReleaseServer, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit],
            Activities.Names.SkipWhile(n => n != ActivityNames.MoveTenant).SkipWhile(n => n == ActivityNames.MoveTenant));
        Assert.Equal(run, Activities.CallsOf(ActivityNames.UnfreezeTenant).Single().InputAs<UnfreezeTenantInput>().RunId);
        var timeline = end.Timeline;
        Assert.Equal(
            ["undo: drop the restored copy", "undo: delete dump", "undo: release the restored server", "undo: unfreeze tenant"],
            timeline.Steps.Where(s => s.Name.StartsWith("undo: ", StringComparison.Ordinal)).Select(s => s.Name));
        Assert.All(timeline.Steps.Where(s => s.Name.StartsWith("undo: ", StringComparison.Ordinal)), s => Assert.Equal("compensated", s.Outcome));
        Assert.Equal(Fast.RetryAttempts - 1, timeline.Steps.Single(s => s.Name == RestoreSteps.Transfer).Attempts!.Count);
        Assert.Equal("failed", timeline.Phase);
        Assert.Null(timeline.OperatorAction);
    }

    // ---- Dry run and snapshot --------------------------------------------------------------------------------------

    [Fact]
    public async Task DryRun_RunsEveryStepButFreezeApprovalAndCutover_AndRemovesTheCopy()
    {
        var (_, run) = await StartRestoreAsync(Request(RestoreMode.DryRun));

        var end = await WaitForEndAsync(run);

        Assert.Equal(RestoreOutcome.DryRunCompleted, end.Output<RestoreResult>().Outcome);
        Assert.Equal(
        [
            ActivityNames.ResolveTenant, ActivityNames.AcquireServer, ActivityNames.GetServerState, ActivityNames.Preflight, ActivityNames.MoveTenant,
            ActivityNames.ParityProbe, ActivityNames.CompareChanges, ActivityNames.WriteAudit, ActivityNames.DropDerivedDatabase, ActivityNames.ReleaseServer, ActivityNames.DeleteDump,
        ], Activities.Names);
        Assert.False(Activities.CallsOf(ActivityNames.ResolveTenant).Single().InputAs<ResolveTenantInput>().RequireActive);
        Assert.Equal(AuditEvents.PitrDryRun, Activities.CallsOf(ActivityNames.WriteAudit).Single().InputAs<WriteAuditInput>().Event);
        Assert.Equal(DerivedDatabaseKind.Restore, Activities.CallsOf(ActivityNames.DropDerivedDatabase).Single().InputAs<DropDerivedDatabaseInput>().Kind);
        Assert.Equal("completed", end.Timeline.Phase);
    }

    [Fact]
    public async Task Snapshot_KeepsTheAsOfCopy_WithoutFreezeOrCutover()
    {
        var (_, run) = await StartRestoreAsync(Request(RestoreMode.Snapshot));

        var end = await WaitForEndAsync(run);

        var result = end.Output<RestoreResult>();
        Assert.Equal((RestoreOutcome.SnapshotCreated, $"tenant_acme_asof_{Stamp}"), (result.Outcome, result.KeptDatabase));
        Assert.Equal(DerivedDatabaseKind.AsOf, Activities.CallsOf(ActivityNames.MoveTenant).Single().InputAs<MoveTenantInput>().Target);
        Assert.True(Activities.CallsOf(ActivityNames.Preflight).Single().InputAs<PreflightInput>().Snapshot);
        Assert.Equal(AuditEvents.PitrSnapshot, Activities.CallsOf(ActivityNames.WriteAudit).Single().InputAs<WriteAuditInput>().Event);
        Assert.DoesNotContain(ActivityNames.FreezeTenant, Activities.Names);
        Assert.DoesNotContain(ActivityNames.DropDerivedDatabase, Activities.Names);
        Assert.DoesNotContain(ActivityNames.SwapCutover, Activities.Names);
    }

    // ---- Rollback ----------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Rollback_Approved_SwapsBackUnfreezesAuditsAndSchedulesTheParkedDrop()
    {
        var engine = await EngineAsync();
        var run = NewRunId();
        var request = new RollbackRequest("run-restored-1", FakeActivities.Tenant, FakeActivities.RestoreTime, "the restore hid new claims", "carol") { Settings = Fast };
        await engine.StartAsync(RollbackOrchestrator.Name, run, request);
        await WaitUntilAsync(run, s => s.AwaitingApproval, "the rollback awaits approval");
        Assert.Equal([ActivityNames.ResolveTenant], Activities.Names);

        await engine.RaiseEventAsync(run, RestoreEvents.Approval, new ApprovalDecision(true, "dave"));
        var end = await WaitForEndAsync(run);

        var result = end.Output<RestoreResult>();
        Assert.Equal((RestoreOutcome.RolledBack, FakeActivities.LiveDatabase, $"tenant_acme_rollback_{Stamp}"), (result.Outcome, result.LiveDatabase, result.KeptDatabase));
        Assert.Equal(
        [
            ActivityNames.ResolveTenant, ActivityNames.FreezeTenant, ActivityNames.ConfirmFreeze, ActivityNames.RollbackSwap, ActivityNames.CancelRetentionDrop,
            ActivityNames.InvalidateTenantCache, ActivityNames.VerifyCutover, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit, ActivityNames.ScheduleRetentionDrop,
        ], Activities.Names);
        Assert.Equal("run-restored-1", Activities.CallsOf(ActivityNames.RollbackSwap).Single().InputAs<RollbackSwapInput>().RunId);
        Assert.Equal(RetentionDropOrchestrator.InstanceIdFor("run-restored-1"), Activities.CallsOf(ActivityNames.CancelRetentionDrop).Single().InputAs<CancelRetentionDropInput>().InstanceId);
        var audit = Activities.CallsOf(ActivityNames.WriteAudit).Single().InputAs<WriteAuditInput>();
        Assert.Equal((AuditEvents.PitrRolledBack, "dave"), (audit.Event, audit.Details!["approvedBy"]));
        Assert.Equal(DerivedDatabaseKind.Rollback, Activities.CallsOf(ActivityNames.ScheduleRetentionDrop).Single().InputAs<ScheduleRetentionDropInput>().Kind);
        Assert.Equal("completed", end.Timeline.Phase);
    }

    // ---- Retention drop ----------------------------------------------------------------------------------------------

    [Fact]
    public async Task RetentionDrop_WaitsForItsDurableTimerThenDrops()
    {
        var engine = await EngineAsync();
        var run = NewRunId();
        var dropAfter = Now.AddSeconds(1);
        await engine.StartAsync(RetentionDropOrchestrator.Name, run, RetentionDrop(dropAfter));

        var waiting = await WaitUntilAsync(run, s => s.CustomStatusJson is not null, "the retention run publishes its status");
        var end = await WaitForEndAsync(run);

        Assert.True(waiting.IsEnded || waiting.CustomStatus.GetProperty("phase").GetString() == "waiting");
        Assert.Equal(RunState.Completed, end.State);
        var result = end.Output<DropDerivedDatabaseResult>();
        Assert.Equal(($"tenant_acme_pre_pitr_{Stamp}", true), (result.DatabaseName, result.Dropped));
        var call = Assert.Single(Activities.CallsOf(ActivityNames.DropDerivedDatabase));
        var drop = call.InputAs<DropDerivedDatabaseInput>();
        Assert.Equal(("run-kept-1", DerivedDatabaseKind.PrePitr, Stamp), (drop.RunId, drop.Kind, drop.Stamp));
        Assert.True(call.At >= dropAfter, $"the drop ran at {call.At:O}, before its time {dropAfter:O}");
        Assert.Equal("completed", end.CustomStatus.GetProperty("phase").GetString());
    }

    [Fact]
    public async Task RetentionDrop_RefusalFromTheDrop_IsNotRetriedByTheEnginesRetryPolicy()
    {
        Activities.Fail(ActivityNames.DropDerivedDatabase, _ => new DatabaseStateConflictException("tenant_acme_pre_pitr_202604221430 carries another run's marker"));
        var engine = await EngineAsync();
        var run = NewRunId();
        await engine.StartAsync(RetentionDropOrchestrator.Name, run, RetentionDrop(Now));

        var end = await WaitForEndAsync(run);

        Assert.Equal(RunState.Failed, end.State);
        Assert.Contains("another run's marker", end.FailureMessage, StringComparison.Ordinal);
        Assert.Single(Activities.CallsOf(ActivityNames.DropDerivedDatabase));
    }

    // ---- Helpers -------------------------------------------------------------------------------------------------------

    private static RestoreRequest Request(RestoreMode mode = RestoreMode.Restore) =>
        new(FakeActivities.Tenant, FakeActivities.RestoreTime, mode, CutoverStrategy.SwapAndKeep, "bad migration", "alice") { Settings = Fast };

    private static RetentionDropRequest RetentionDrop(DateTime dropAfterUtc) =>
        new("run-kept-1", FakeActivities.Live, FakeActivities.Tenant, Stamp, dropAfterUtc, DerivedDatabaseKind.PrePitr, FakeActivities.LiveDatabase);

    private static string Stamp => RestoreStamp.From(FakeActivities.RestoreTime).Value;

    private static DateTime Now => TimeProvider.System.GetUtcNow().UtcDateTime;

    private static string NewRunId() => "run-" + Guid.NewGuid().ToString("N")[..12];

    private async Task<ScenarioEngine> EngineAsync() => _engine ??= await StartEngineAsync(Activities);

    private async Task<(ScenarioEngine Engine, string Run)> StartRestoreAsync(RestoreRequest? request = null, string orchestrator = RestoreTenantOrchestrator.Name)
    {
        var engine = await EngineAsync();
        var run = NewRunId();
        await engine.StartAsync(orchestrator, run, request ?? Request());
        return (engine, run);
    }

    /// <summary>After <paramref name="lastForwardStep"/>: drop the copy, delete the dump, release the server, unfreeze — then one audit row of <paramref name="auditEvent"/>.</summary>
    private void AssertCompensatedAfter(string lastForwardStep, string auditEvent)
    {
        Assert.Equal(
            [ActivityNames.DropDerivedDatabase, ActivityNames.DeleteDump, ActivityNames.ReleaseServer, ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit],
            Activities.Names.SkipWhile(n => n != lastForwardStep).Skip(1));
        Assert.Equal(auditEvent, Assert.Single(Activities.CallsOf(ActivityNames.WriteAudit)).InputAs<WriteAuditInput>().Event);
    }

    private async Task<RunSnapshot> GetAsync(string run) =>
        await _engine!.GetAsync(run) ?? throw new InvalidOperationException($"The engine does not know {run}.");

    private Task<RunSnapshot> WaitForEndAsync(string run) => WaitUntilAsync(run, s => s.IsEnded, "the run ends");

    /// <summary>Polls the instance until <paramref name="condition"/> holds (or it ended, which fails unless asked for); bounded.</summary>
    private async Task<RunSnapshot> WaitUntilAsync(string run, Func<RunSnapshot, bool> condition, string what)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(Patience);
        RunSnapshot? last = null;
        try
        {
            while (true)
            {
                last = await _engine!.GetAsync(run);
                if (last is not null && (condition(last) || last.IsEnded))
                {
                    Assert.True(condition(last), $"The run ended ({last.State}: {last.FailureType} {last.FailureMessage}) before {what}.");
                    return last;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, limit.Token);
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"Timed out after {Patience} waiting until {what}; last state {last?.State}, status {last?.CustomStatusJson}.");
            throw;
        }
    }
}
