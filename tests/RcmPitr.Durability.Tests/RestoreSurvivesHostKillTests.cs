using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using RcmPitr.DurableStorage.TestHost;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Durability.Tests;

/// <summary>
/// The restore orchestrator on the production engine's storage: the real Durable Task SDK worker over the Azure Storage
/// provider (on Azurite), in a host process that is SIGKILLed while the run waits for its approver and then started
/// again on the same task hub. The run must finish as Restored without running again any step it had finished.
/// </summary>
public sealed class RestoreSurvivesHostKillTests(Azurite azurite) : IClassFixture<Azurite>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly string[] BeforeApproval =
    [
        ActivityNames.ResolveTenant, ActivityNames.FreezeTenant, ActivityNames.AcquireServer, ActivityNames.GetServerState,
        ActivityNames.Preflight, ActivityNames.MoveTenant, ActivityNames.ParityProbe, ActivityNames.CompareChanges, ActivityNames.Notify,
    ];

    private static readonly string[] AfterApproval =
    [
        ActivityNames.ConfirmFreeze, ActivityNames.SwapCutover, ActivityNames.InvalidateTenantCache, ActivityNames.VerifyCutover,
        ActivityNames.UnfreezeTenant, ActivityNames.WriteAudit, ActivityNames.Notify, ActivityNames.ReleaseServer,
        ActivityNames.DeleteDump, ActivityNames.ScheduleRetentionDrop,
    ];

    private readonly string _activityLog = Path.Combine(Path.GetTempPath(), $"rcmpitr-activities-{Guid.NewGuid():N}.log");
    private readonly string _taskHub = "RcmPitr" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task RestoreTenant_HostSigKilledWhileAwaitingApproval_RestartedHostRestoresWithEveryActivityRunOnce()
    {
        azurite.Require();
        const string instanceId = "restore-acme-sigkill";
        var request = new RestoreRequest("acme", new DateTimeOffset(2026, 3, 1, 9, 30, 15, TimeSpan.Zero), RestoreMode.Restore, CutoverStrategy.SwapAndKeep,
            "claims batch overwritten", "alice@example.com")
        {
            RequestedById = "oid-alice",
            Settings = new RestoreSettings { StatusCacheTtl = TimeSpan.FromSeconds(1) },
        };

        int killedPid;
        await using (var first = await StartHostAsync())
        {
            killedPid = first.Id;
            await first.Client.ScheduleNewOrchestrationInstanceAsync(RestoreTenantOrchestrator.Name, request, new StartOrchestrationOptions(instanceId), TestContext.Current.CancellationToken);
            await UntilAsync(first, instanceId, s => s.AwaitingApproval, "the run waits for its approver");
            // Four eyes: the requester's own approval is refused by the run and recorded; it still waits.
            await first.Client.RaiseEventAsync(instanceId, RestoreEvents.Approval, new ApprovalDecision(true, "alice@example.com", DecidedById: "oid-alice"), TestContext.Current.CancellationToken);
            await UntilAsync(first, instanceId, s => s is { AwaitingApproval: true, Decisions.Count: 1 }, "the run records the requester's refused approval");

            await first.KillAsync();
            Assert.Equal(137, first.ExitCode); // 128 + SIGKILL: nothing of the host ran on the way out
        }

        Assert.Equal(BeforeApproval, Executions().Select(e => e.Activity));
        await using var second = await StartHostAsync();
        var waiting = await second.Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, TestContext.Current.CancellationToken);
        Assert.Equal(OrchestrationRuntimeStatus.Running, waiting?.RuntimeStatus);
        Assert.True(waiting!.ReadCustomStatusAs<RestoreStatus>()!.AwaitingApproval);

        await second.Client.RaiseEventAsync(instanceId, RestoreEvents.Approval, new ApprovalDecision(true, "bob@example.com", "parity checked", "oid-bob"), TestContext.Current.CancellationToken);
        var done = await WaitForCompletionAsync(second, instanceId);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(RestoreOutcome.Restored, done.ReadOutputAs<RestoreResult>()!.Outcome);
        var status = done.ReadCustomStatusAs<RestoreStatus>()!;
        Assert.Equal("completed", status.Phase);
        Assert.Equal([("alice@example.com", false), ("bob@example.com", true)], status.Decisions!.Select(d => (d.By, d.Accepted)));
        // Every step finished before the kill ran once, in the killed host; the rest ran once, in the new one.
        var executions = Executions();
        Assert.Equal([.. BeforeApproval, .. AfterApproval], executions.Select(e => e.Activity));
        Assert.All(executions, e => Assert.Equal(instanceId, e.InstanceId));
        Assert.Equal(
            [.. BeforeApproval.Select(_ => killedPid), .. AfterApproval.Select(_ => second.Id)],
            executions.Select(e => e.ProcessId));
    }

    public void Dispose() => File.Delete(_activityLog);

    private Task<StorageHostProcess> StartHostAsync() => StorageHostProcess.StartAsync(azurite.ConnectionString, _taskHub, _activityLog);

    private IReadOnlyList<(string Activity, string InstanceId, int ProcessId)> Executions() => ActivityLog.Read(_activityLog);

    private static async Task UntilAsync(StorageHostProcess host, string instanceId, Func<RestoreStatus, bool> condition, string what)
    {
        using var limit = new CancellationTokenSource(Patience);
        try
        {
            while (true)
            {
                var instance = await host.Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, limit.Token);
                if (instance?.ReadCustomStatusAs<RestoreStatus>() is { } status && condition(status))
                {
                    return;
                }

                Assert.False(instance is { IsCompleted: true }, $"The run ended ({instance?.RuntimeStatus}) before {what}: {instance?.FailureDetails} {instance?.SerializedOutput} {instance?.SerializedCustomStatus} Host log: {host.Log}");
                await Task.Delay(200, limit.Token);
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            Assert.Fail($"Timed out waiting until {what}. Host log: {host.Log}");
        }
    }

    private static async Task<OrchestrationMetadata> WaitForCompletionAsync(StorageHostProcess host, string instanceId)
    {
        using var limit = new CancellationTokenSource(Patience);
        try
        {
            return await host.Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, limit.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            Assert.Fail($"The run did not complete within {Patience.TotalSeconds} s after the approval. Host log: {host.Log}");
            throw;
        }
    }
}
