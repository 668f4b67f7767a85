using Microsoft.DurableTask;
using Moq;
using RcmPitr.Functions.Orchestrations;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Orchestration;
using RcmPitr.Workflow.Restores;
using WorkflowRetryPolicy = RcmPitr.Workflow.Orchestration.RetryPolicy;

namespace RcmPitr.Functions.Tests;

public sealed class DurableContextAdapterTests
{
    [Fact]
    public async Task CallActivityAsync_WithRetry_PassesTheNameAndADurableRetryPolicyThatSkipsRefusals()
    {
        var context = new Mock<TaskOrchestrationContext>(MockBehavior.Strict);
        TaskOptions? seen = null;
        context.Setup(c => c.CallActivityAsync<TenantInfo>(It.Is<TaskName>(n => n.Name == ActivityNames.ResolveTenant), It.IsAny<ResolveTenantInput>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, _, options) => seen = options)
            .ReturnsAsync(new TenantInfo(Guid.Empty, "acme", TenantStatus.Active, new DbServerInfo("s", "h", 5432, "u", "r", 17), "tenant_acme", null));

        var tenant = await new DurableContextAdapter(context.Object).CallActivityAsync<TenantInfo>(ActivityNames.ResolveTenant, new ResolveTenantInput("acme"), WorkflowRetryPolicy.Transient);

        Assert.Equal("acme", tenant.Slug);
        var policy = seen!.Retry!.Policy!;
        Assert.Equal(5, policy.MaxNumberOfAttempts);
        Assert.Equal(TimeSpan.FromSeconds(15), policy.FirstRetryInterval);
        Assert.False(DurableContextAdapter.IsRetryable(new TaskFailureDetails("RcmPitr.Workflow.Errors.PreflightFailedException", "no", null, null, null)));
        Assert.True(DurableContextAdapter.IsRetryable(new TaskFailureDetails("Npgsql.NpgsqlException", "reset", null, null, null)));
    }

    [Fact]
    public async Task CallActivityAsync_TaskFailed_BecomesActivityFailedWithTheRefusalCode()
    {
        var context = new Mock<TaskOrchestrationContext>(MockBehavior.Strict);
        context.Setup(c => c.CallActivityAsync<PreflightResult>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ThrowsAsync(new TaskFailedException(ActivityNames.Preflight, 7, new TaskFailureDetails("RcmPitr.Workflow.Errors.PreflightFailedException", "extension 'citext' missing", null, null, null)));

        var error = await Assert.ThrowsAsync<ActivityFailedException>(() =>
            new DurableContextAdapter(context.Object).CallActivityAsync<PreflightResult>(ActivityNames.Preflight, new object()));

        Assert.Equal(ActivityNames.Preflight, error.ActivityName);
        Assert.True(error.Failure.IsRefusal);
        Assert.Contains("citext", error.Failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TimersEventsStatusAndGuids_PassThrough()
    {
        var context = new Mock<TaskOrchestrationContext>(MockBehavior.Strict);
        var at = new DateTime(2026, 4, 22, 14, 30, 0, DateTimeKind.Utc);
        var guid = Guid.NewGuid();
        context.Setup(c => c.CreateTimer(at, It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        context.Setup(c => c.WaitForExternalEvent<ApprovalDecision>(RestoreEvents.Approval, It.IsAny<CancellationToken>())).ReturnsAsync(new ApprovalDecision(true, "bob"));
        context.Setup(c => c.SetCustomStatus(It.IsAny<object?>()));
        context.Setup(c => c.NewGuid()).Returns(guid);
        context.SetupGet(c => c.InstanceId).Returns("run-1");
        var adapter = new DurableContextAdapter(context.Object);

        await adapter.CreateTimer(at, CancellationToken.None);
        var decision = await adapter.WaitForExternalEvent<ApprovalDecision>(RestoreEvents.Approval, TestContext.Current.CancellationToken);
        adapter.SetCustomStatus(new { phase = "x" });

        Assert.Equal("bob", decision.DecidedBy);
        Assert.Equal(guid, adapter.NewGuid());
        Assert.Equal("run-1", adapter.InstanceId);
        context.Verify(c => c.SetCustomStatus(It.IsAny<object?>()), Times.Once);
    }
}
