using Microsoft.DurableTask;
using Moq;
using RcmPitr.Functions.Orchestrations;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Tests;

/// <summary>The orchestrator triggers run the workflow's orchestrators on Durable's context: strict mocks, calls in order.</summary>
public sealed class OrchestratorFunctionsTests
{
    private static readonly DbServerInfo Live = new("pg-us-east-1", "pg.example", 5432, "admin", "pg-admin", 17);

    [Fact]
    public async Task RollbackRestore_OperatorOverride_FreezesWaitsSwapsBackAndAuditsInOrder()
    {
        var context = new Mock<TaskOrchestrationContext>(MockBehavior.Strict);
        var sequence = new MockSequence();
        var now = new DateTime(2026, 4, 23, 9, 0, 0, DateTimeKind.Utc);
        var tenantId = Guid.NewGuid();
        context.SetupGet(c => c.InstanceId).Returns("run-1-rollback");
        context.SetupGet(c => c.CurrentUtcDateTime).Returns(now);
        var request = new RollbackRequest("run-1", "acme", new DateTimeOffset(2026, 4, 22, 14, 30, 0, TimeSpan.Zero), "oops", "carol") { Override = true };
        context.Setup(c => c.WaitForExternalEvent<CancelRequest>(RestoreEvents.Cancel, It.IsAny<CancellationToken>())).Returns(new TaskCompletionSource<CancelRequest>().Task);
        context.Setup(c => c.SetCustomStatus(It.IsAny<object?>()));
        Expect<TenantInfo>(context, sequence, ActivityNames.ResolveTenant, new TenantInfo(tenantId, "acme", TenantStatus.Active, Live, "tenant_acme", null));
        Expect<FreezeTenantResult>(context, sequence, ActivityNames.FreezeTenant, new FreezeTenantResult(TenantStatus.Active, true));
        context.InSequence(sequence).Setup(c => c.CreateTimer(now.AddSeconds(30), It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        Expect<ConfirmFreezeResult>(context, sequence, ActivityNames.ConfirmFreeze, new ConfirmFreezeResult(now));
        context.InSequence(sequence).Setup(c => c.CallActivityAsync<RollbackSwapResult>(
                It.Is<TaskName>(n => n.Name == ActivityNames.RollbackSwap), It.Is<RollbackSwapInput>(i => i.RunId == "run-1" && i.Stamp == "20260422143000"), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new RollbackSwapResult("tenant_acme", "tenant_acme_rollback_20260422143000_abcdef", 0, false));
        Expect(context, sequence, ActivityNames.CancelRetentionDrop, true);
        Expect(context, sequence, ActivityNames.InvalidateTenantCache, true);
        Expect<VerifyCutoverResult>(context, sequence, ActivityNames.VerifyCutover, new VerifyCutoverResult("tenant_acme", new Dictionary<string, long>()));
        Expect<UnfreezeTenantResult>(context, sequence, ActivityNames.UnfreezeTenant, new UnfreezeTenantResult(UnfreezeOutcome.Unfrozen, TenantStatus.Active));
        context.InSequence(sequence).Setup(c => c.CallActivityAsync<WriteAuditResult>(It.Is<TaskName>(n => n.Name == ActivityNames.WriteAudit), It.Is<WriteAuditInput>(i => i.Event == AuditEvents.PitrRolledBack), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new WriteAuditResult(1, true));
        Expect(context, sequence, ActivityNames.ScheduleRetentionDrop, true);

        var result = await OrchestratorFunctions.RollbackRestore(context.Object, request);

        Assert.Equal(RestoreOutcome.RolledBack, result.Outcome);
        context.Verify(c => c.CallActivityAsync<WriteAuditResult>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()), Times.Once);
    }

    private static void Expect<T>(Mock<TaskOrchestrationContext> context, MockSequence sequence, string activity, T result) =>
        context.InSequence(sequence).Setup(c => c.CallActivityAsync<T>(It.Is<TaskName>(n => n.Name == activity), It.IsAny<object?>(), It.IsAny<TaskOptions?>())).ReturnsAsync(result);

    [Fact]
    public async Task DropKeptDatabase_WaitsOnADurableTimerThenDrops()
    {
        var context = new Mock<TaskOrchestrationContext>(MockBehavior.Strict);
        var due = new DateTime(2026, 4, 30, 9, 0, 0, DateTimeKind.Utc);
        var request = new RetentionDropRequest("run-1", Live, "acme", "202604221430", due);
        context.Setup(c => c.SetCustomStatus(It.IsAny<object?>()));
        context.Setup(c => c.CreateTimer(due, It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        context.Setup(c => c.CallActivityAsync<DropDerivedDatabaseResult>(It.Is<TaskName>(n => n.Name == ActivityNames.DropDerivedDatabase),
                It.Is<DropDerivedDatabaseInput>(i => i.Kind == DerivedDatabaseKind.PrePitr), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new DropDerivedDatabaseResult("tenant_acme_pre_pitr_202604221430", true));

        var result = await OrchestratorFunctions.DropKeptDatabase(context.Object, request);

        Assert.True(result.Dropped);
        context.Verify(c => c.CreateTimer(due, It.IsAny<CancellationToken>()), Times.Once);
    }
}
