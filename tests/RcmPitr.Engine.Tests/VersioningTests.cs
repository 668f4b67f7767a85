using System.Text.Json;
using Microsoft.Extensions.Logging;
using RcmPitr.Engine.History;
using RcmPitr.Engine.Hosting;

namespace RcmPitr.Engine.Tests;

/// <summary>
/// A deploy can change or drop an orchestrator while instances of it are in flight: an instance whose orchestrator
/// a process does not register is left alone, and one whose recorded history the new code no longer replays ends
/// Failed saying what diverged and what a person must do.
/// </summary>
public sealed class VersioningTests(EngineClusterFixture fx)
{
    private const string Approval = "Approval";

    [Fact]
    public async Task Episode_OrchestratorChangedUnderAnInFlightInstance_FailsWithOperatorActionInItsStatus()
    {
        await using var db = await fx.NewDatabaseAsync();
        var before = await db.StartEngineAsync(ApprovalV1());
        await before.Client.StartAsync(Approval, "in-flight", "acme", lockKey: "tenant:acme", CancellationToken.None);
        await AwaitingApprovalAsync(before, "in-flight");
        await before.StopAsync();

        // The new version renamed the first step: the recorded history says "Prepare" ran there.
        var changed = new DurableRegistry()
            .AddOrchestrator<string, string>(Approval, async (context, tenant) =>
            {
                await context.CallActivityAsync<string>("PrepareTenant", tenant);
                await context.WaitForExternalEvent<string>("decision");
                return "applied";
            })
            .AddActivity<string, string>("PrepareTenant", (tenant, _) => Task.FromResult(tenant));
        var logs = new RecordingLoggerFactory();
        var after = await db.StartEngineAsync(changed, loggers: logs);
        await after.Client.RaiseEventAsync("in-flight", "decision", "approve", CancellationToken.None);
        var done = await DurableEngineTests.WaitAsync(after, "in-flight");

        Assert.Equal("Failed", done.RuntimeStatus);
        var status = done.CustomStatus!.Value;
        Assert.Equal("failed", status.GetProperty("phase").GetString());
        Assert.False(status.GetProperty("awaitingApproval").GetBoolean());
        Assert.Equal("prepare", status.GetProperty("steps")[0].GetProperty("name").GetString()); // what the run did stays visible
        Assert.Contains("event #2", status.GetProperty("error").GetString(), StringComparison.Ordinal);
        var action = status.GetProperty("operatorAction").GetString()!;
        Assert.Contains("orchestration code changed", action, StringComparison.Ordinal);
        Assert.Contains("Nothing was undone automatically", action, StringComparison.Ordinal);
        Assert.Contains("timeline", action, StringComparison.Ordinal);
        Assert.Contains("by hand", action, StringComparison.Ordinal);
        Assert.Equal(typeof(NonDeterministicOrchestrationException).FullName, done.Failure!.ErrorType);
        Assert.Contains("event #2", done.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("TaskScheduled 'Prepare'", done.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("TaskScheduled 'PrepareTenant'", done.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Error && l.Message.Contains("event #2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Episode_ChangedCodeNoLongerAsksForARecordedAction_FailsNamingTheMissingEvent()
    {
        await using var db = await fx.NewDatabaseAsync();
        var before = await db.StartEngineAsync(ApprovalV1());
        await before.Client.StartAsync(Approval, "dropped-step", "acme", lockKey: null, CancellationToken.None);
        await AwaitingApprovalAsync(before, "dropped-step");
        await before.StopAsync();

        // The new version dropped the first step and goes straight to the approval.
        var changed = new DurableRegistry().AddOrchestrator<string, string>(Approval, async (context, _) =>
            await context.WaitForExternalEvent<string>("decision"));
        var after = await db.StartEngineAsync(changed);
        await after.Client.RaiseEventAsync("dropped-step", "decision", "approve", CancellationToken.None);
        var done = await DurableEngineTests.WaitAsync(after, "dropped-step");

        Assert.Equal("Failed", done.RuntimeStatus);
        Assert.Equal(typeof(NonDeterministicOrchestrationException).FullName, done.Failure!.ErrorType);
        Assert.Contains("event #2", done.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("TaskScheduled 'Prepare'", done.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("no longer asks for it", done.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal("failed", done.CustomStatus!.Value.GetProperty("phase").GetString());
    }

    [Fact]
    public async Task Instance_OfAnOrchestratorThisProcessDoesNotRegister_IsLeftUntouchedForTheVersionThatDoes()
    {
        await using var db = await fx.NewDatabaseAsync();
        var legacy = new DurableRegistry()
            .AddOrchestrator<string, string>("Legacy", (context, x) => context.CallActivityAsync<string>("Work", x))
            .AddActivity<string, string>("Work", (x, _) => Task.FromResult($"legacy {x}"));
        // The old version schedules the step, and stops before any loop of it claims the step.
        var old = await db.StartEngineAsync(legacy, new EngineOptions { PollInterval = TimeSpan.FromMilliseconds(100), MaxConcurrentActivities = 0 });
        await old.Client.StartAsync("Legacy", "legacy-1", "a", lockKey: null, CancellationToken.None);
        await Poll.UntilAsync(async () => await db.CountAsync("SELECT count(*) FROM rcm_engine.activities WHERE instance_id = 'legacy-1'") == 1, "the legacy step to be scheduled");
        await old.StopAsync();
        var historyBefore = await db.CountAsync("SELECT count(*) FROM rcm_engine.history WHERE instance_id = 'legacy-1'");

        // The new version registers another orchestrator that calls an activity of the same name.
        var current = new DurableRegistry()
            .AddOrchestrator<string, string>("Current", (context, x) => context.CallActivityAsync<string>("Work", x))
            .AddActivity<string, string>("Work", (x, _) => Task.FromResult($"current {x}"));
        var next = await db.StartEngineAsync(current);
        await next.Client.StartAsync("Current", "current-1", "b", lockKey: null, CancellationToken.None);
        // The legacy step is older, so any loop willing to take it would have taken it before this one.
        var currentDone = await DurableEngineTests.WaitAsync(next, "current-1");
        var legacyMeanwhile = await next.Client.GetAsync("legacy-1", CancellationToken.None);
        var legacyUndelivered = await db.CountAsync("SELECT count(*) FROM rcm_engine.activities WHERE instance_id = 'legacy-1' AND deliveries = 0");
        var historyMeanwhile = await db.CountAsync("SELECT count(*) FROM rcm_engine.history WHERE instance_id = 'legacy-1'");

        var drainer = await db.StartEngineAsync(legacy);
        var legacyDone = await DurableEngineTests.WaitAsync(drainer, "legacy-1");

        Assert.Equal("current b", currentDone.Output!.Value.GetString());
        Assert.Equal("Running", legacyMeanwhile!.RuntimeStatus);
        Assert.Equal(1L, legacyUndelivered);
        Assert.Equal(historyBefore, historyMeanwhile);
        Assert.Equal("legacy a", legacyDone.Output!.Value.GetString());
    }

    [Fact]
    public async Task IsRegistered_OrchestratorNames_AnswersForThisProcessCaseInsensitively()
    {
        await using var db = await fx.NewDatabaseAsync();
        var engine = await db.StartEngineAsync(ApprovalV1());

        Assert.True(engine.Client.IsRegistered(Approval));
        Assert.True(engine.Client.IsRegistered("approval"));
        Assert.False(engine.Client.IsRegistered("Prepare")); // an activity, not an orchestrator
        Assert.False(engine.Client.IsRegistered("ApprovalV0"));
    }

    private static DurableRegistry ApprovalV1() => new DurableRegistry()
        .AddOrchestrator<string, string>(Approval, async (context, tenant) =>
        {
            await context.CallActivityAsync<string>("Prepare", tenant);
            context.SetCustomStatus(new { phase = "awaiting approval", awaitingApproval = true, steps = new[] { new { name = "prepare", outcome = "succeeded" } } });
            var decision = await context.WaitForExternalEvent<string>("decision");
            await context.CallActivityAsync<string>("Apply", decision);
            return "applied";
        })
        .AddActivity<string, string>("Prepare", (tenant, _) => Task.FromResult(tenant))
        .AddActivity<string, string>("Apply", (decision, _) => Task.FromResult(decision));

    private static Task AwaitingApprovalAsync(DurableEngine engine, string instanceId) =>
        Poll.UntilAsync(
            async () => (await engine.Client.GetAsync(instanceId, CancellationToken.None))?.CustomStatus is { ValueKind: JsonValueKind.Object } status
                        && status.TryGetProperty("awaitingApproval", out var waiting) && waiting.GetBoolean(),
            "the run to await approval");
}
