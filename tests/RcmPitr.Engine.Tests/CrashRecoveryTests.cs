using System.Diagnostics;
using RcmPitr.Engine.History;
using RcmPitr.Engine.Hosting;
using RcmPitr.Engine.Storage;
using RcmPitr.Engine.TestHost;

namespace RcmPitr.Engine.Tests;

/// <summary>
/// Real process crashes: the engine's host is SIGKILLed in the middle of an activity, after an activity's effect
/// committed but before its result was recorded, and in the middle of an episode's transaction; then started again.
/// </summary>
public sealed class CrashRecoveryTests(EngineClusterFixture fx)
{
    [Fact]
    public async Task SigKill_DuringAnActivity_RestartedProcessFinishesWithoutDuplicatedSideEffectsAndShowsTheRedelivery()
    {
        await using var db = await fx.NewDatabaseAsync();
        await ProbeWorkflows.EnsureTablesAsync(db.DataSource);
        var client = ClientOnly(db);
        int firstPid;
        using (var first = StartHost(db, slowSeconds: 30))
        {
            firstPid = first.Id;
            await WaitForLineAsync(first, "engine started");
            await client.StartAsync(ProbeWorkflows.Orchestrator, "crash-1", new ProbeInput("crash"), lockKey: null, CancellationToken.None);
            await WaitUntilAsync(async () => await db.CountAsync("SELECT count(*) FROM probe_executions WHERE activity = 'Slow'") == 1);

            first.Kill(); // SIGKILL: no shutdown code runs, the lease is simply never renewed or released.
            await first.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal("Running", (await client.GetAsync("crash-1", CancellationToken.None))!.RuntimeStatus);
        // Once its lease lapses, the killed delivery shows as interrupted, naming the loop that held it.
        var interrupted = await SlowAsync(client, s => s.State == ActivityDeliveryState.Interrupted);
        Assert.Equal(1, interrupted.Deliveries);
        Assert.Contains($":{firstPid}:", interrupted.LeasedBy, StringComparison.Ordinal);

        // Only the killed host needs the short lease; the second renews its own every third of a lease while Slow runs 3 s, and a
        // 2 s lease would leave a freshly started process on a busy machine little slack before it lost the delivery.
        using var second = StartHost(db, slowSeconds: 3, leaseSeconds: 10);
        try
        {
            // While the second delivery runs, the status can say "attempt 2 - the previous delivery was interrupted".
            var rerun = await SlowAsync(client, s => s is { State: ActivityDeliveryState.Running, Deliveries: 2 });
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var done = await client.WaitForCompletionAsync("crash-1", TimeSpan.FromMilliseconds(200), timeout.Token);
            var activities = await client.GetActivitiesAsync("crash-1", CancellationToken.None);
            var history = await new EngineStore(db.DataSource).GetHistoryAsync("crash-1", CancellationToken.None);

            Assert.Equal(1, rerun.InterruptedDeliveries);
            Assert.Contains($":{second.Id}:", rerun.LeasedBy, StringComparison.Ordinal);
            Assert.NotNull(rerun.ClaimedAt);
            Assert.Equal("Completed", done.RuntimeStatus);
            Assert.Equal("crash done", done.Output!.Value.GetString());
            // Step 1 finished before the crash: replay used its recorded result and never ran it again.
            Assert.Equal(1L, await db.CountAsync("SELECT count(*) FROM probe_executions WHERE activity = 'Effect' AND step = 1"));
            // The interrupted activity ran again (at-least-once) after its lease expired.
            Assert.Equal(2L, await db.CountAsync("SELECT count(*) FROM probe_executions WHERE activity = 'Slow'"));
            Assert.Equal(1L, await db.CountAsync("SELECT count(*) FROM probe_executions WHERE activity = 'Effect' AND step = 3"));
            Assert.Equal(2L, await db.CountAsync("SELECT count(*) FROM probe_effects WHERE instance_id = 'crash-1'"));
            Assert.Equal(
                [("Effect", ActivityDeliveryState.Completed, 1), ("Slow", ActivityDeliveryState.Completed, 2), ("Effect", ActivityDeliveryState.Completed, 1)],
                activities.Select(a => (a.Name, a.State, a.Deliveries)).ToArray());
            Assert.Equal([1, 2, 1], history.Where(e => e.Kind == HistoryEventKinds.TaskCompleted).Select(e => e.Deliveries ?? 0).ToArray());
        }
        finally
        {
            second.Kill();
            await second.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task SigKill_AfterTheSideEffectCommittedBeforeItsCompletionIsRecorded_EffectAppliedOnceAndRunCompletes()
    {
        await using var db = await fx.NewDatabaseAsync();
        await ProbeWorkflows.EnsureTablesAsync(db.DataSource);
        var client = ClientOnly(db);
        using (var first = StartHost(db, slowSeconds: 0.1, leaseSeconds: 4))
        {
            await WaitForLineAsync(first, "engine started");
            // Step 3 has committed its effect and returned; the engine's transaction recording its result stops
            // at the insert of the result message, and the process dies there.
            await using var crashPoint = await CrashPoint.InstallAsync(db, "messages",
                "NEW.event->>'kind' = 'TaskCompleted' AND NEW.event->>'name' = 'Effect' AND (NEW.event->>'taskId')::int = 2");
            await client.StartAsync(ProbeWorkflows.Orchestrator, "crash-2", new ProbeInput("crash"), lockKey: null, CancellationToken.None);
            await crashPoint.ReachedAsync();
            var effectBeforeKill = await db.CountAsync("SELECT count(*) FROM probe_effects WHERE instance_id = 'crash-2' AND step = 3");

            first.Kill();
            await first.WaitForExitAsync(TestContext.Current.CancellationToken);
            await crashPoint.ReleaseAsync();
            Assert.Equal(1L, effectBeforeKill);
        }

        using var second = StartHost(db, slowSeconds: 0.1, leaseSeconds: 4);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var done = await client.WaitForCompletionAsync("crash-2", TimeSpan.FromMilliseconds(100), timeout.Token);
            var history = await new EngineStore(db.DataSource).GetHistoryAsync("crash-2", CancellationToken.None);

            Assert.Equal("Completed", done.RuntimeStatus);
            Assert.Equal("crash done", done.Output!.Value.GetString());
            // The step ran twice (its first result died with the process) and its effect exists once.
            Assert.Equal(2L, await db.CountAsync("SELECT count(*) FROM probe_executions WHERE activity = 'Effect' AND step = 3"));
            Assert.Equal(1L, await db.CountAsync("SELECT count(*) FROM probe_effects WHERE instance_id = 'crash-2' AND step = 3"));
            Assert.Equal(2L, await db.CountAsync("SELECT count(*) FROM probe_effects WHERE instance_id = 'crash-2'"));
            Assert.Equal(1L, await db.CountAsync("SELECT count(*) FROM probe_executions WHERE activity = 'Effect' AND step = 1"));
            Assert.Equal(1L, await db.CountAsync("SELECT count(*) FROM probe_executions WHERE activity = 'Slow'"));
            Assert.Equal([(0, 1), (1, 1), (2, 2)], history.Where(e => e.Kind == HistoryEventKinds.TaskCompleted).Select(e => (e.TaskId!.Value, e.Deliveries ?? 0)).ToArray());
            AssertWellFormed(history);
        }
        finally
        {
            second.Kill();
            await second.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task SigKill_DuringAnEpisodeCommit_RestartedProcessReplaysAndSchedulesTheNextStepOnce()
    {
        await using var db = await fx.NewDatabaseAsync();
        await ProbeWorkflows.EnsureTablesAsync(db.DataSource);
        var client = ClientOnly(db);
        long historyBeforeKill;
        using (var first = StartHost(db, slowSeconds: 0.1))
        {
            await WaitForLineAsync(first, "engine started");
            // The episode that takes the Slow step's result has written part of its history and stops before it
            // writes the step it schedules next (and before its commit); the process dies there.
            await using var crashPoint = await CrashPoint.InstallAsync(db, "history",
                "NEW.event->>'kind' = 'TaskScheduled' AND (NEW.event->>'taskId')::int = 2");
            await client.StartAsync(ProbeWorkflows.Orchestrator, "crash-3", new ProbeInput("crash"), lockKey: null, CancellationToken.None);
            await crashPoint.ReachedAsync();

            first.Kill();
            await first.WaitForExitAsync(TestContext.Current.CancellationToken);
            await crashPoint.ReleaseAsync();
            historyBeforeKill = await db.CountAsync("SELECT count(*) FROM rcm_engine.history WHERE instance_id = 'crash-3'");
        }

        // Nothing of the interrupted episode was kept: the Slow step's result still waits in the inbox.
        var inbox = await db.CountAsync("SELECT count(*) FROM rcm_engine.messages WHERE instance_id = 'crash-3' AND event->>'kind' = 'TaskCompleted' AND event->>'name' = 'Slow'");
        var scheduledBeforeRestart = await db.CountAsync("SELECT count(*) FROM rcm_engine.activities WHERE instance_id = 'crash-3' AND task_id = 2");
        using var second = StartHost(db, slowSeconds: 0.1);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var done = await client.WaitForCompletionAsync("crash-3", TimeSpan.FromMilliseconds(100), timeout.Token);
            var history = await new EngineStore(db.DataSource).GetHistoryAsync("crash-3", CancellationToken.None);

            Assert.Equal(1L, inbox);
            Assert.Equal(0L, scheduledBeforeRestart);
            Assert.Equal(6L, historyBeforeKill); // episode 1: started, its start, Effect scheduled; episode 2: its start, Effect done, Slow scheduled
            Assert.Equal("Completed", done.RuntimeStatus);
            Assert.Equal("crash done", done.Output!.Value.GetString());
            // Every step ran once: the crash cost an episode, not an activity.
            Assert.Equal(1L, await db.CountAsync("SELECT count(*) FROM probe_executions WHERE activity = 'Effect' AND step = 1"));
            Assert.Equal(1L, await db.CountAsync("SELECT count(*) FROM probe_executions WHERE activity = 'Slow'"));
            Assert.Equal(1L, await db.CountAsync("SELECT count(*) FROM probe_executions WHERE activity = 'Effect' AND step = 3"));
            Assert.Equal(2L, await db.CountAsync("SELECT count(*) FROM probe_effects WHERE instance_id = 'crash-3'"));
            Assert.Equal([0, 1, 2], history.Where(e => e.Kind == HistoryEventKinds.TaskScheduled).Select(e => e.TaskId!.Value).ToArray());
            Assert.Equal([0, 1, 2], history.Where(e => e.Kind == HistoryEventKinds.TaskCompleted).Select(e => e.TaskId!.Value).ToArray());
            AssertWellFormed(history);
        }
        finally
        {
            second.Kill();
            await second.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>One start, one end, and every action scheduled and finished exactly once.</summary>
    private static void AssertWellFormed(IReadOnlyList<HistoryEvent> history)
    {
        Assert.Single(history, e => e.Kind == HistoryEventKinds.ExecutionStarted);
        Assert.Single(history, e => e.Kind == HistoryEventKinds.ExecutionCompleted);
        Assert.Equal(HistoryEventKinds.ExecutionCompleted, history[^1].Kind);
        var scheduled = history.Where(e => e.Kind == HistoryEventKinds.TaskScheduled).Select(e => e.TaskId!.Value).ToList();
        var finished = history.Where(e => e.Kind is HistoryEventKinds.TaskCompleted or HistoryEventKinds.TaskFailed).Select(e => e.TaskId!.Value).ToList();
        Assert.Equal(scheduled.Distinct().Count(), scheduled.Count);
        Assert.Equal(scheduled.Order(), finished.Order());
    }

    /// <summary>A client-only engine (never started) to start and query instances from this process.</summary>
    private static EngineClient ClientOnly(EngineDatabase db) =>
        new DurableEngine(db.DataSource, new DurableRegistry(), EngineDatabase.FastOptions, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).Client;

    private static async Task<ActivityDeliveryStatus> SlowAsync(EngineClient client, Func<ActivityDeliveryStatus, bool> condition)
    {
        ActivityDeliveryStatus? found = null;
        await Poll.UntilAsync(
            async () => (found = (await client.GetActivitiesAsync("crash-1", CancellationToken.None)).SingleOrDefault(a => a.Name == "Slow")) is { } slow && condition(slow),
            "the Slow activity to reach the expected state");
        return found!;
    }

    private static Process StartHost(EngineDatabase db, double slowSeconds, double leaseSeconds = 2)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "RcmPitr.Engine.TestHost.dll"));
        start.ArgumentList.Add(slowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)); // a killed worker's activity is re-delivered after this
        start.Environment["RCM_ENGINE_TEST_CONNECTION"] = db.ConnectionString;
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the engine test host");
    }

    private static async Task WaitForLineAsync(Process process, string expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains(expected, StringComparison.Ordinal))
            {
                return;
            }
        }

        throw new InvalidOperationException($"The test host exited before printing '{expected}': {await process.StandardError.ReadToEndAsync()}");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            await Task.Delay(100, timeout.Token);
        }
    }
}
