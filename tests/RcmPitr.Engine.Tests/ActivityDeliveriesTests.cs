using RcmPitr.Engine.Hosting;
using RcmPitr.Engine.Storage;

namespace RcmPitr.Engine.Tests;

/// <summary>The per-activity view a status API shows: scheduled, running (since when, by whom), and what becomes of a call whose instance ends under it.</summary>
public sealed class ActivityDeliveriesTests(EngineClusterFixture fx)
{
    [Fact]
    public async Task GetActivities_CallScheduledRunningAndTerminatedUnderIt_EndsAbandoned()
    {
        await using var db = await fx.NewDatabaseAsync();
        using var gate = new GatedActivity();
        var registry = new DurableRegistry()
            .AddOrchestrator<string, string>("Gated", (context, label) => context.CallActivityAsync<string>("Gated", label))
            .AddActivity<string, string>("Gated", gate.RunAsync);
        var scheduler = await db.StartEngineAsync(registry, new EngineOptions { PollInterval = TimeSpan.FromMilliseconds(100), MaxConcurrentActivities = 0 });
        await scheduler.Client.StartAsync("Gated", "abandoned", "x", lockKey: null, CancellationToken.None);
        await Poll.UntilAsync(async () => (await scheduler.Client.GetActivitiesAsync("abandoned", CancellationToken.None)).Count == 1, "the call to be scheduled");
        var scheduled = (await scheduler.Client.GetActivitiesAsync("abandoned", CancellationToken.None)).Single();

        var runner = await db.StartEngineAsync(registry, new EngineOptions { WorkerId = "runner-host", PollInterval = TimeSpan.FromMilliseconds(100), MaxConcurrentActivities = 1 });
        await Poll.ForAsync(gate[1].Started.Task, "the call to start");
        var running = (await runner.Client.GetActivitiesAsync("abandoned", CancellationToken.None)).Single();
        await runner.Client.TerminateAsync("abandoned", "operator stopped it", CancellationToken.None);
        var runningAfterTerminate = (await runner.Client.GetActivitiesAsync("abandoned", CancellationToken.None)).Single();
        gate.ReleaseAll(); // its result has no instance to go to
        await Poll.UntilAsync(async () => await db.CountAsync("SELECT count(*) FROM rcm_engine.activities") == 0, "the finished call's work item to go");
        var abandoned = (await runner.Client.GetActivitiesAsync("abandoned", CancellationToken.None)).Single();

        Assert.Equal((0, "Gated", ActivityDeliveryState.Scheduled, 0), (scheduled.TaskId, scheduled.Name, scheduled.State, scheduled.Deliveries));
        Assert.Equal((ActivityDeliveryState.Running, 1, 0, "runner-host/activity-1"), (running.State, running.Deliveries, running.InterruptedDeliveries, running.LeasedBy));
        Assert.NotNull(running.ClaimedAt);
        Assert.True(running.LeaseExpiresAt > running.ClaimedAt);
        Assert.Equal(ActivityDeliveryState.Running, runningAfterTerminate.State);
        Assert.Equal((ActivityDeliveryState.Abandoned, 0), (abandoned.State, abandoned.Deliveries));
        await Assert.ThrowsAsync<InstanceNotFoundException>(() => runner.Client.GetActivitiesAsync("no-such-instance", CancellationToken.None));
    }
}
