using RcmPitr.Engine.History;
using RcmPitr.Engine.Hosting;
using RcmPitr.Engine.Storage;

namespace RcmPitr.Engine.Tests;

/// <summary>
/// An activity's lease belongs to one claim: skewed host clocks cannot steal it, a lease that cannot be renewed
/// cancels the activity, and a result from a claim that lost its lease is never recorded.
/// </summary>
public sealed class LeaseFencingTests(EngineClusterFixture fx)
{
    private const string Gated = "Gated";
    private const string Quick = "Quick";

    [Theory]
    [InlineData(0, 60)] // the claiming host's clock is an hour ahead: every lease looks expired to it
    [InlineData(-60, 0)] // the holding host's clock is an hour behind: its leases look expired to everyone else
    public async Task ClaimActivity_HostClockSkewed_DoesNotTakeALiveLease(int holderSkewMinutes, int claimerSkewMinutes)
    {
        await using var db = await fx.NewDatabaseAsync();
        using var gate = new GatedActivity();
        var options = EngineDatabase.FastOptions;
        options.ActivityLease = TimeSpan.FromSeconds(6);
        // Episodes run on a host with a true clock and no activity loop; the lease holder and the claimer only run activities that matter here.
        var driver = await db.StartEngineAsync(Registry(gate), With(options, activities: 0));
        await db.StartEngineAsync(Registry(gate), With(options, activities: 1), new SkewedTimeProvider(TimeSpan.FromMinutes(holderSkewMinutes)));
        await driver.Client.StartAsync(Gated, "held", "held", lockKey: null, CancellationToken.None);
        await Poll.ForAsync(gate[1].Started.Task, "the holder to start the gated activity");

        await db.StartEngineAsync(Registry(gate), With(options, activities: 2), new SkewedTimeProvider(TimeSpan.FromMinutes(claimerSkewMinutes)));
        await driver.Client.StartAsync(Quick, "quick", "quick", lockKey: null, CancellationToken.None);
        // Only the claimer has a free activity loop, and it takes the oldest claimable item first: once the
        // quick instance is done, the claimer has looked at the held item and left it alone.
        var quick = await DurableEngineTests.WaitAsync(driver, "quick");
        var deliveriesWhileHeld = gate.Count;
        gate.ReleaseAll();
        var held = await DurableEngineTests.WaitAsync(driver, "held");

        Assert.Equal("Completed", quick.RuntimeStatus);
        Assert.Equal(1, deliveriesWhileHeld);
        Assert.Equal("held: delivery 1", held.Output!.Value.GetString());
        Assert.Single(await CompletionsAsync(db, "held"));
    }

    [Fact]
    public async Task RenewLease_DatabaseRefusesTheConnection_CancelsTheActivityAndDiscardsItsResult()
    {
        await using var db = await fx.NewDatabaseAsync();
        var (role, roleSource) = await db.CreateOwnerRoleAsync();
        using var gate = new GatedActivity();
        gate[2].Release.TrySetResult();
        var options = With(EngineDatabase.FastOptions, activities: 1);
        options.ActivityLease = TimeSpan.FromSeconds(2);
        var engine = await db.StartEngineAsync(Registry(gate), options, dataSource: roleSource);
        await engine.Client.StartAsync(Gated, "refused", "refused", lockKey: null, CancellationToken.None);
        await Poll.ForAsync(gate[1].Started.Task, "the first delivery to start");

        // From now on the engine's database refuses its connections, the open ones included.
        await db.ExecuteAsync($"ALTER ROLE {role} NOLOGIN");
        await db.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role);
        await Poll.ForAsync(gate[1].Cancelled.Task, "the activity's token to fire once its lease could not be renewed", TimeSpan.FromSeconds(30));
        gate[1].Release.TrySetResult(); // the first delivery returns a result anyway: it must not count
        await db.ExecuteAsync($"ALTER ROLE {role} LOGIN");
        var done = await DurableEngineTests.WaitAsync(engine, "refused");

        Assert.Equal("Completed", done.RuntimeStatus);
        Assert.Equal("refused: delivery 2", done.Output!.Value.GetString());
        Assert.Single(await CompletionsAsync(db, "refused"));
    }

    [Fact]
    public async Task CompleteActivity_AfterAnotherLoopOfTheSameProcessReclaimedIt_IsDiscarded()
    {
        await using var db = await fx.NewDatabaseAsync();
        using var gate = new GatedActivity();
        var logs = new RecordingLoggerFactory();
        // A long lease: the first renewal is due long after this test is over, so the stale claim learns of its
        // lost lease only when it tries to record its result.
        var options = With(EngineDatabase.FastOptions, activities: 2);
        options.ActivityLease = TimeSpan.FromSeconds(30);
        var engine = await db.StartEngineAsync(Registry(gate), options, loggers: logs);
        await engine.Client.StartAsync(Gated, "twice", "twice", lockKey: null, CancellationToken.None);
        await Poll.ForAsync(gate[1].Started.Task, "the first delivery to start");

        // The first claim's lease lapses (as when its renewals are lost); the process's other loop claims the item.
        await db.ExecuteAsync("UPDATE rcm_engine.activities SET locked_until = now() - interval '1 second'");
        await Poll.ForAsync(gate[2].Started.Task, "the second loop to claim the item again");
        gate[1].Release.TrySetResult(); // the stale claim finishes first and tries to record its result
        await Poll.UntilAsync(
            async () => logs.Contains("discarded") || !(await engine.Client.GetAsync("twice", CancellationToken.None))!.IsActive,
            "the stale result to be discarded (or, wrongly, recorded)");
        gate[2].Release.TrySetResult();
        var done = await DurableEngineTests.WaitAsync(engine, "twice");

        Assert.Equal("twice: delivery 2", done.Output!.Value.GetString());
        Assert.Single(await CompletionsAsync(db, "twice"));
    }

    [Fact]
    public async Task RenewLease_AnotherLoopOfTheSameProcessReclaimedIt_CancelsTheStaleClaim()
    {
        await using var db = await fx.NewDatabaseAsync();
        using var gate = new GatedActivity();
        var engine = await db.StartEngineAsync(Registry(gate), With(EngineDatabase.FastOptions, activities: 2));
        await engine.Client.StartAsync(Gated, "stolen", "stolen", lockKey: null, CancellationToken.None);
        await Poll.ForAsync(gate[1].Started.Task, "the first delivery to start");

        await db.ExecuteAsync("UPDATE rcm_engine.activities SET locked_until = now() - interval '1 second'");
        await Poll.ForAsync(gate[2].Started.Task, "the second loop to claim the item again");
        await Poll.ForAsync(gate[1].Cancelled.Task, "the stale claim's token to fire at its next renewal", TimeSpan.FromSeconds(30));
        gate.ReleaseAll();
        var done = await DurableEngineTests.WaitAsync(engine, "stolen");

        Assert.Equal("stolen: delivery 2", done.Output!.Value.GetString());
        Assert.Single(await CompletionsAsync(db, "stolen"));
    }

    [Fact]
    public async Task StartAndRaise_FromAClientWhoseClockIsAhead_AreDeliveredAtOnce()
    {
        await using var db = await fx.NewDatabaseAsync();
        var registry = new DurableRegistry().AddOrchestrator<string, string>("Wait", async (context, _) => await context.WaitForExternalEvent<string>("go"));
        var engine = await db.StartEngineAsync(registry);
        var aheadClient = new DurableEngine(db.DataSource, new DurableRegistry(), EngineDatabase.FastOptions, new SkewedTimeProvider(TimeSpan.FromHours(1)),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).Client;

        await aheadClient.StartAsync("Wait", "ahead", "x", lockKey: null, CancellationToken.None);
        await aheadClient.RaiseEventAsync("ahead", "go", "went", CancellationToken.None);
        var done = await DurableEngineTests.WaitAsync(engine, "ahead");

        Assert.Equal("went", done.Output!.Value.GetString());
    }

    private static DurableRegistry Registry(GatedActivity gate) => new DurableRegistry()
        .AddOrchestrator<string, string>(Gated, (context, label) => context.CallActivityAsync<string>(Gated, label))
        .AddOrchestrator<string, string>(Quick, (context, label) => context.CallActivityAsync<string>(Quick, label))
        .AddActivity<string, string>(Gated, gate.RunAsync)
        .AddActivity<string, string>(Quick, (label, _) => Task.FromResult(label));

    private static EngineOptions With(EngineOptions options, int activities) => new()
    {
        PollInterval = options.PollInterval,
        ActivityLease = options.ActivityLease,
        MaxConcurrentActivities = activities,
    };

    private static async Task<List<HistoryEvent>> CompletionsAsync(EngineDatabase db, string instanceId) =>
        (await new EngineStore(db.DataSource).GetHistoryAsync(instanceId, CancellationToken.None))
        .Where(e => e.Kind is HistoryEventKinds.TaskCompleted or HistoryEventKinds.TaskFailed)
        .ToList();
}
