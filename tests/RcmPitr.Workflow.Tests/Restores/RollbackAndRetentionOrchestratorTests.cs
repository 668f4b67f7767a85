using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Tests.Restores;

public sealed class RollbackAndRetentionOrchestratorTests
{
    private static readonly RollbackRequest Request = new("run-1", "acme", Script.RestoreTime, "wrong restore", "alice");

    [Fact]
    public async Task Rollback_ApprovedByASecondPerson_FreezesWaitsSwapsBackUnfreezesAndKeepsTheParkedCopy()
    {
        var context = Script.HappyPath(new ScriptedContext("run-1-rollback"));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var result = await new RollbackOrchestrator().RunAsync(context, Request);

        Assert.Equal(RestoreOutcome.RolledBack, result.Outcome);
        Assert.Equal(
        [
            "call " + ActivityNames.ResolveTenant, "timer +1.00:00:00", "call " + ActivityNames.FreezeTenant, "timer +00:00:30",
            "call " + ActivityNames.ConfirmFreeze, "call " + ActivityNames.RollbackSwap, "call " + ActivityNames.CancelRetentionDrop,
            "call " + ActivityNames.InvalidateTenantCache, "call " + ActivityNames.VerifyCutover, "call " + ActivityNames.UnfreezeTenant,
            "call " + ActivityNames.WriteAudit, "call " + ActivityNames.ScheduleRetentionDrop,
        ], context.Log);
        Assert.Equal("run-1", context.InputsOf<FreezeTenantInput>(ActivityNames.FreezeTenant).Single().TakeOverFrom);
        Assert.Equal("run-1", context.InputsOf<RollbackSwapInput>(ActivityNames.RollbackSwap).Single().RunId);
        Assert.Equal("run-1-drop-kept", context.InputsOf<CancelRetentionDropInput>(ActivityNames.CancelRetentionDrop).Single().InstanceId);
        var drop = context.InputsOf<ScheduleRetentionDropInput>(ActivityNames.ScheduleRetentionDrop).Single();
        Assert.Equal(("run-1", DerivedDatabaseKind.Rollback), (drop.RunId, drop.Kind));
        var audit = context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single();
        Assert.Equal((AuditEvents.PitrRolledBack, "bob", "false"), (audit.Event, audit.Details!["approvedBy"], audit.Details["override"]));
    }

    [Fact]
    public async Task Rollback_ApprovedOnlyByItsRequester_NeverSwapsBack()
    {
        var context = Script.HappyPath(new ScriptedContext("run-1-rollback"));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "Alice"));

        var result = await new RollbackOrchestrator().RunAsync(context, Request);

        Assert.Equal(RestoreOutcome.ApprovalTimedOut, result.Outcome);
        Assert.DoesNotContain(ActivityNames.RollbackSwap, context.CallNames);
        Assert.DoesNotContain(ActivityNames.FreezeTenant, context.CallNames);
        Assert.Equal(AuditEvents.PitrApprovalTimedOut, context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Event);
    }

    [Fact]
    public async Task Rollback_Rejected_ChangesNothing()
    {
        var context = Script.HappyPath(new ScriptedContext("run-1-rollback"));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(false, "bob", "the restore is right"));

        var result = await new RollbackOrchestrator().RunAsync(context, Request);

        Assert.Equal(RestoreOutcome.Rejected, result.Outcome);
        Assert.Equal([ActivityNames.ResolveTenant, ActivityNames.WriteAudit], context.CallNames);
        Assert.Equal(AuditEvents.PitrRejected, context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Event);
    }

    [Fact]
    public async Task Rollback_OperatorOverride_SkipsTheWaitAndRecordsTheOverride()
    {
        var context = Script.HappyPath(new ScriptedContext("run-1-rollback"));

        var result = await new RollbackOrchestrator().RunAsync(context, Request with { Override = true });

        Assert.Equal(RestoreOutcome.RolledBack, result.Outcome);
        Assert.DoesNotContain("timer +1.00:00:00", context.Log);
        var decision = Assert.Single(Assert.IsType<RestoreStatus>(context.CustomStatus).Decisions!);
        Assert.Equal(("alice", "override", true), (decision.By, decision.Decision, decision.Accepted));
        Assert.Equal("true", context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Details!["override"]);
    }

    [Fact]
    public async Task Rollback_OfAFlip_PointsTheReferenceBackAndSchedulesNoDrop()
    {
        var context = Script.HappyPath(new ScriptedContext("run-1-rollback"));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var result = await new RollbackOrchestrator().RunAsync(context, Request with { Strategy = CutoverStrategy.FlipTheRef });

        Assert.Equal(RestoreOutcome.RolledBack, result.Outcome);
        Assert.Contains(ActivityNames.RollbackFlip, context.CallNames);
        Assert.DoesNotContain(ActivityNames.RollbackSwap, context.CallNames);
        Assert.DoesNotContain(ActivityNames.ScheduleRetentionDrop, context.CallNames);
        Assert.Equal("tenant_acme_restore_202604221430", result.KeptDatabase);
    }

    [Fact]
    public async Task Rollback_SwapBackRefused_LeavesTheTenantFrozenWithInstructions()
    {
        var context = Script.HappyPath(new ScriptedContext("run-1-rollback"))
            .On(ActivityNames.RollbackSwap, _ => throw new DatabaseStateConflictException("tenant_acme is not the database run run-1 restored"));
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));

        var error = await Assert.ThrowsAsync<RestoreFailedException>(() => new RollbackOrchestrator().RunAsync(context, Request));

        Assert.Equal(RestoreSteps.Rollback, error.Step);
        Assert.Contains("rcm-pitr rollback run-1", error.OperatorAction, StringComparison.Ordinal);
        Assert.DoesNotContain(ActivityNames.UnfreezeTenant, context.CallNames);
    }

    [Fact]
    public async Task RetentionDrop_WaitsUntilDueThenDropsTheKeptDatabase()
    {
        var context = Script.HappyPath(new ScriptedContext("run-1-drop-kept"));
        var due = new DateTime(2026, 4, 30, 9, 0, 0, DateTimeKind.Utc);

        var result = await new RetentionDropOrchestrator().RunAsync(context, new RetentionDropRequest("run-1", Script.Live, "acme", "20260422143015", due));

        Assert.Equal(due, Assert.Single(context.Timers));
        Assert.Equal(DerivedDatabaseKind.PrePitr, context.InputsOf<DropDerivedDatabaseInput>(ActivityNames.DropDerivedDatabase).Single().Kind);
        Assert.True(result.Dropped);
    }
}
