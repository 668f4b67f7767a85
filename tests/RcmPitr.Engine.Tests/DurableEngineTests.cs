using Microsoft.Extensions.Logging.Abstractions;
using RcmPitr.Engine.History;
using RcmPitr.Engine.Hosting;
using RcmPitr.Engine.Replay;
using RcmPitr.Engine.Storage;
using RcmPitr.Engine.TestHost;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.Tests;

public sealed class DurableEngineTests(EngineClusterFixture fx)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_ActivitiesTimerAndEvent_CompletesWithOutputAndStatus()
    {
        await using var db = await fx.NewDatabaseAsync();
        var registry = new DurableRegistry()
            .AddOrchestrator<string, string>("Greet", async (context, name) =>
            {
                var shout = await context.CallActivityAsync<string>("Upper", name);
                context.SetCustomStatus(new { step = "waiting" });
                await context.CreateTimer(context.CurrentUtcDateTime.AddMilliseconds(300), CancellationToken.None);
                var suffix = await context.WaitForExternalEvent<string>("suffix");
                return $"{shout}{suffix}";
            })
            .AddActivity<string, string>("Upper", (s, _) => Task.FromResult(s.ToUpperInvariant()));
        var engine = await db.StartEngineAsync(registry);

        await engine.Client.StartAsync("Greet", "greet-1", "hello", lockKey: null, CancellationToken.None);
        await engine.Client.RaiseEventAsync("greet-1", "suffix", "!", CancellationToken.None);
        var done = await WaitAsync(engine, "greet-1");

        Assert.Equal("Completed", done.RuntimeStatus);
        Assert.Equal("HELLO!", done.Output!.Value.GetString());
        Assert.Equal("waiting", done.CustomStatus!.Value.GetProperty("step").GetString());
    }

    [Fact]
    public async Task Replay_OfARecordedHistory_IsDeterministicAndRerunsNoActivity()
    {
        await using var db = await fx.NewDatabaseAsync();
        var executions = 0;
        var registry = CountingRegistry(() => Interlocked.Increment(ref executions));
        var engine = await db.StartEngineAsync(registry);
        await engine.Client.StartAsync("Chain", "chain-1", 3, lockKey: null, CancellationToken.None);
        var done = await WaitAsync(engine, "chain-1");
        var history = await new EngineStore(db.DataSource).GetHistoryAsync("chain-1", CancellationToken.None);
        var beforeCompletion = history.TakeWhile(e => e.Kind != HistoryEventKinds.ExecutionCompleted).ToList();

        var replay = new EpisodeExecutor(NullLoggerFactory.Instance).Run(registry.Orchestrator("Chain"), "chain-1", beforeCompletion, [], DateTime.UnixEpoch);

        Assert.Equal("Completed", replay.Status);
        Assert.Equal(done.Output!.Value.GetRawText(), replay.Output!.Value.GetRawText());
        Assert.Empty(replay.NewActivities);
        Assert.Equal(3, executions);
    }

    [Fact]
    public async Task Replay_WithChangedOrchestratorCode_FailsAsNonDeterministic()
    {
        await using var db = await fx.NewDatabaseAsync();
        var registry = CountingRegistry(() => { });
        var engine = await db.StartEngineAsync(registry);
        await engine.Client.StartAsync("Chain", "chain-2", 2, lockKey: null, CancellationToken.None);
        await WaitAsync(engine, "chain-2");
        var history = (await new EngineStore(db.DataSource).GetHistoryAsync("chain-2", CancellationToken.None))
            .TakeWhile(e => e.Kind != HistoryEventKinds.ExecutionCompleted).ToList();
        var changed = new DurableRegistry().AddOrchestrator<int, int>("Chain", async (context, _) =>
        {
            try
            {
                return await context.CallActivityAsync<int>("Different", 1);
            }
            catch (Exception)
            {
                return -1; // even code that swallows the error cannot hide the divergence
            }
        });

        var replay = new EpisodeExecutor(NullLoggerFactory.Instance).Run(changed.Orchestrator("Chain"), "chain-2", history, [], DateTime.UnixEpoch);

        Assert.Equal("Failed", replay.Status);
        Assert.Equal(typeof(NonDeterministicOrchestrationException).FullName, replay.Failure!.ErrorType);
    }

    [Fact]
    public async Task Timer_AcrossARestart_FiresInTheNextProcess()
    {
        await using var db = await fx.NewDatabaseAsync();
        var registry = new DurableRegistry().AddOrchestrator<int, string>("Sleepy", async (context, seconds) =>
        {
            var start = context.CurrentUtcDateTime;
            await context.CreateTimer(start.AddSeconds(seconds), CancellationToken.None);
            return (context.CurrentUtcDateTime - start).TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        var first = await db.StartEngineAsync(registry);
        await first.Client.StartAsync("Sleepy", "sleepy-1", 2, lockKey: null, CancellationToken.None);
        await WaitForStatusAsync(first, "sleepy-1", "Running");
        await first.StopAsync();

        var second = await db.StartEngineAsync(registry);
        var done = await WaitAsync(second, "sleepy-1");

        Assert.Equal("Completed", done.RuntimeStatus);
        Assert.True(double.Parse(done.Output!.Value.GetString()!, System.Globalization.CultureInfo.InvariantCulture) >= 2);
    }

    [Fact]
    public async Task Event_RaisedBeforeTheWait_IsKeptAndDelivered()
    {
        await using var db = await fx.NewDatabaseAsync();
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new DurableRegistry()
            .AddOrchestrator<int, string>("Late", async (context, _) =>
            {
                await context.CallActivityAsync<int>("Gate", 0);
                return await context.WaitForExternalEvent<string>("APPROVAL");
            })
            .AddActivity<int, int>("Gate", (_, _) => gate.Task);
        var engine = await db.StartEngineAsync(registry);
        await engine.Client.StartAsync("Late", "late-1", 0, lockKey: null, CancellationToken.None);
        await WaitForStatusAsync(engine, "late-1", "Running");

        await engine.Client.RaiseEventAsync("late-1", "approval", "early bird", CancellationToken.None);
        gate.SetResult(1);
        var done = await WaitAsync(engine, "late-1");

        Assert.Equal("early bird", done.Output!.Value.GetString());
    }

    [Fact]
    public async Task Activity_FailingEveryAttempt_FailsTheOrchestrationAfterTheRetries()
    {
        await using var db = await fx.NewDatabaseAsync();
        var attempts = 0;
        var registry = new DurableRegistry()
            .AddOrchestrator<int, int>("Doomed", (context, _) =>
                context.CallActivityAsync<int>("Boom", 0, new RetryPolicy(3, TimeSpan.FromMilliseconds(200))))
            .AddActivity<int, int>("Boom", (_, _) =>
            {
                Interlocked.Increment(ref attempts);
                throw new IOException("disk on fire");
            });
        var engine = await db.StartEngineAsync(registry);

        await engine.Client.StartAsync("Doomed", "doomed-1", 0, lockKey: null, CancellationToken.None);
        var done = await WaitAsync(engine, "doomed-1");

        Assert.Equal("Failed", done.RuntimeStatus);
        Assert.Equal(typeof(ActivityFailedException).FullName, done.Failure!.ErrorType);
        Assert.Contains("disk on fire", done.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task LockKey_SecondActiveInstance_IsRefusedNamingTheFirst()
    {
        await using var db = await fx.NewDatabaseAsync();
        var registry = new DurableRegistry().AddOrchestrator<int, int>("Wait", async (context, _) => await context.WaitForExternalEvent<int>("never"));
        var engine = await db.StartEngineAsync(registry);
        await engine.Client.StartAsync("Wait", "first", 0, "tenant:acme", CancellationToken.None);

        var conflict = await Assert.ThrowsAsync<LockKeyConflictException>(() => engine.Client.StartAsync("Wait", "second", 0, "tenant:acme", CancellationToken.None));
        var duplicate = await Assert.ThrowsAsync<InstanceAlreadyExistsException>(() => engine.Client.StartAsync("Wait", "first", 0, null, CancellationToken.None));
        await engine.Client.TerminateAsync("first", "test over", CancellationToken.None);
        await engine.Client.StartAsync("Wait", "third", 0, "tenant:acme", CancellationToken.None);

        Assert.Equal("first", conflict.RunningInstanceId);
        Assert.Equal("first", duplicate.InstanceId);
        Assert.Equal("Terminated", (await engine.Client.GetAsync("first", CancellationToken.None))!.RuntimeStatus);
    }

    [Fact]
    public async Task TwoEngines_OnOneDatabase_RunEveryActivityExactlyOnce()
    {
        await using var db = await fx.NewDatabaseAsync();
        await ProbeWorkflows.EnsureTablesAsync(db.DataSource);
        var registry = ProbeWorkflows.Register(new DurableRegistry(), db.DataSource, TimeSpan.FromMilliseconds(50));
        var a = await db.StartEngineAsync(registry);
        await db.StartEngineAsync(ProbeWorkflows.Register(new DurableRegistry(), db.DataSource, TimeSpan.FromMilliseconds(50)));

        var ids = Enumerable.Range(0, 12).Select(i => $"probe-{i}").ToList();
        foreach (var id in ids)
        {
            await a.Client.StartAsync(ProbeWorkflows.Orchestrator, id, new ProbeInput(id), lockKey: null, CancellationToken.None);
        }

        foreach (var id in ids)
        {
            Assert.Equal("Completed", (await WaitAsync(a, id)).RuntimeStatus);
        }

        Assert.Equal(36L, await db.CountAsync("SELECT count(*) FROM probe_executions"));
        Assert.Equal(36L, await db.CountAsync("SELECT count(DISTINCT (instance_id, step)) FROM probe_executions"));
        Assert.Equal(24L, await db.CountAsync("SELECT count(*) FROM probe_effects"));
    }

    private static DurableRegistry CountingRegistry(Action onExecute) => new DurableRegistry()
        .AddOrchestrator<int, int>("Chain", async (context, steps) =>
        {
            var total = 0;
            for (var i = 1; i <= steps; i++)
            {
                total += await context.CallActivityAsync<int>("Square", i);
            }

            return total;
        })
        .AddActivity<int, int>("Square", (i, _) =>
        {
            onExecute();
            return Task.FromResult(i * i);
        });

    internal static async Task<InstanceMetadata> WaitAsync(DurableEngine engine, string instanceId)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await engine.Client.WaitForCompletionAsync(instanceId, TimeSpan.FromMilliseconds(100), timeout.Token);
    }

    internal static async Task WaitForStatusAsync(DurableEngine engine, string instanceId, string status)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while ((await engine.Client.GetAsync(instanceId, timeout.Token))?.RuntimeStatus != status)
        {
            await Task.Delay(50, timeout.Token);
        }
    }
}
