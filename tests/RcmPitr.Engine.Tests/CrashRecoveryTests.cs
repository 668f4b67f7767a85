using System.Diagnostics;
using RcmPitr.Engine.History;
using RcmPitr.Engine.Hosting;
using RcmPitr.Engine.Storage;
using RcmPitr.Engine.TestHost;

namespace RcmPitr.Engine.Tests;

/// <summary>A real process crash: the engine's host is SIGKILLed in the middle of an activity and started again.</summary>
public sealed class CrashRecoveryTests(EngineClusterFixture fx)
{
    [Fact]
    public async Task SigKill_DuringAnActivity_RestartedProcessFinishesWithoutDuplicatedSideEffectsAndShowsTheRedelivery()
    {
        await using var db = await fx.NewDatabaseAsync();
        await ProbeWorkflows.EnsureTablesAsync(db.DataSource);
        // A client-only engine (never started) to start and query the instance from this process.
        var client = new DurableEngine(db.DataSource, new DurableRegistry(), EngineDatabase.FastOptions, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).Client;
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

        using var second = StartHost(db, slowSeconds: 3);
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

    private static async Task<ActivityDeliveryStatus> SlowAsync(EngineClient client, Func<ActivityDeliveryStatus, bool> condition)
    {
        ActivityDeliveryStatus? found = null;
        await Poll.UntilAsync(
            async () => (found = (await client.GetActivitiesAsync("crash-1", CancellationToken.None)).SingleOrDefault(a => a.Name == "Slow")) is { } slow && condition(slow),
            "the Slow activity to reach the expected state");
        return found!;
    }

    private static Process StartHost(EngineDatabase db, double slowSeconds)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "RcmPitr.Engine.TestHost.dll"));
        start.ArgumentList.Add(slowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("2"); // lease seconds: a killed worker's activity is re-delivered after this
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
