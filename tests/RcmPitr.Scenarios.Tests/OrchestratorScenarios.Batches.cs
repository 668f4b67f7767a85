using System.Collections.Concurrent;
using RcmPitr.Scenarios.Tests.Activities;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Scenarios.Tests;

/// <summary>The batch orchestrator on each engine, over scripted member runs.</summary>
public abstract partial class OrchestratorScenarios
{
    private static readonly DbServerInfo Eu = FakeActivities.Live with { Name = "pg-eu-west-1", Fqdn = "pg-eu-west-1.example" };

    [Fact]
    public async Task Batch_ThreeMembersOnTwoServers_HoldsEachServerOnceStartsAsCopiesAreMadeAndReleasesAtTheEnd()
    {
        var reads = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        Activities
            .On<ResolveTenantInput, TenantInfo>(ActivityNames.ResolveTenant, i => new TenantInfo(FakeActivities.TenantId, i.Tenant, TenantStatus.Active, ServerOf(i.Tenant), $"tenant_{i.Tenant}", null))
            .On<ReadBatchMembersInput, IReadOnlyList<BatchMemberState>>(ActivityNames.ReadBatchMembers, i =>
                [.. i.RunIds.Select(id => Scripted(id, reads.AddOrUpdate(id, 1, (_, n) => n + 1)))]);
        var engine = await EngineAsync();
        var batch = "batch-" + NewRunId();

        await engine.StartAsync(RestoreBatchOrchestrator.Name, batch, BatchRequest(parallelism: 2));
        var end = await WaitForEndAsync(batch);

        var result = end.Output<RestoreBatchResult>();
        Assert.Equal(BatchOutcome.PartlySucceeded, result.Outcome);
        Assert.Equal(
            [("acme", BatchMemberStates.Succeeded), ("globex-health", BatchMemberStates.Succeeded), ("initech", BatchMemberStates.Failed)],
            result.Members.Select(m => (m.Tenant, m.State)));
        Assert.Equal("Pass", result.Members[0].Parity);
        Assert.Contains("copy failed parity", result.Members[2].Detail, StringComparison.Ordinal);
        // One hold per source server, taken by the batch before any member starts, released after every member ended.
        var acquires = Activities.CallsOf(ActivityNames.AcquireServer).Select(c => c.InputAs<AcquireServerInput>()).ToList();
        Assert.Equal([(batch, FakeActivities.Live.Name), (batch, Eu.Name)], acquires.Select(a => (a.RunId, a.Source.Name)));
        Assert.Equal([FakeActivities.Live.Name, Eu.Name], Activities.CallsOf(ActivityNames.ReleaseServer).Select(c => c.InputAs<ReleaseServerInput>().Source.Name));
        Assert.Equal(
            [ActivityNames.ReleaseServer, ActivityNames.ReleaseServer],
            Activities.Names.SkipWhile(n => n != ActivityNames.ReleaseServer));
        Assert.True(Activities.Names.ToList().LastIndexOf(ActivityNames.AcquireServer) < Activities.Names.ToList().IndexOf(ActivityNames.StartBatchMember));
        // Parallelism 2: the first two start at once; the third only after a read shows a copy made.
        var names = Activities.Names.ToList();
        var starts = Activities.CallsOf(ActivityNames.StartBatchMember).Select(c => c.InputAs<StartBatchMemberInput>()).ToList();
        Assert.Equal(["acme", "globex-health", "initech"], starts.Select(s => s.Request.Tenant));
        var thirdStart = names.Select((n, i) => (n, i)).Where(x => x.n == ActivityNames.StartBatchMember).ElementAt(2).i;
        Assert.Equal(2, names.Take(thirdStart).Count(n => n == ActivityNames.ReadBatchMembers));
        // Every member run is an ordinary restore request of its tenant, by the batch's requester, at the batch's time.
        Assert.All(starts, s => Assert.Equal((RestoreMode.DryRun, "alice", FakeActivities.RestoreTime), (s.Request.Mode, s.Request.RequestedBy, s.Request.RestoreTime)));
        Assert.All(starts, s => Assert.Contains(batch, s.Request.Reason, StringComparison.Ordinal));
        var status = end.CustomStatus;
        Assert.Equal("completed", status.GetProperty("phase").GetString());
        Assert.Equal(2, status.GetProperty("counts").GetProperty("succeeded").GetInt32());
    }

    [Fact]
    public async Task Batch_Cancelled_StopsTheRunningMemberStartsNoOtherAndReleases()
    {
        var cancelled = 0;
        Activities
            .On<ReadBatchMembersInput, IReadOnlyList<BatchMemberState>>(ActivityNames.ReadBatchMembers, i =>
                [.. i.RunIds.Select(id => Volatile.Read(ref cancelled) == 0
                    ? new BatchMemberState(id, "Running", RestoreSteps.Transfer, false, false, null, null, null)
                    : new BatchMemberState(id, "Completed", "undo: unfreeze tenant", false, true, null, nameof(RestoreOutcome.Cancelled), "cancelled by carol"))])
            .On<CancelBatchMembersInput, int>(ActivityNames.CancelBatchMembers, i =>
            {
                Interlocked.Exchange(ref cancelled, 1);
                return i.RunIds.Count;
            });
        var engine = await EngineAsync();
        var batch = "batch-" + NewRunId();
        await engine.StartAsync(RestoreBatchOrchestrator.Name, batch, BatchRequest(parallelism: 1, mode: RestoreMode.Restore));
        await WaitUntilAsync(batch, s => Activities.CallsOf(ActivityNames.ReadBatchMembers).Count >= 2, "the batch follows its first member");

        await engine.RaiseEventAsync(batch, RestoreEvents.Cancel, new CancelRequest("carol", "wrong restore time"));
        var end = await WaitForEndAsync(batch);

        var result = end.Output<RestoreBatchResult>();
        Assert.Equal(BatchOutcome.Cancelled, result.Outcome);
        Assert.Equal(
            [BatchMemberStates.Stopped, BatchMemberStates.NotStarted, BatchMemberStates.NotStarted],
            result.Members.Select(m => m.State));
        Assert.Contains("batch cancelled by carol: wrong restore time", result.Members[1].Detail, StringComparison.Ordinal);
        Assert.Single(Activities.CallsOf(ActivityNames.StartBatchMember));
        Assert.Equal([result.Members[0].RunId], Assert.Single(Activities.CallsOf(ActivityNames.CancelBatchMembers)).InputAs<CancelBatchMembersInput>().RunIds);
        // The default resolver puts every member on one server: one hold, released once.
        Assert.Equal(FakeActivities.Live.Name, Assert.Single(Activities.CallsOf(ActivityNames.ReleaseServer)).InputAs<ReleaseServerInput>().Source.Name);
    }

    [Fact]
    public async Task Batch_ServerThatCannotBeRestored_LeavesItsMembersNotStartedAndTheOthersGoOn()
    {
        Activities
            .On<ResolveTenantInput, TenantInfo>(ActivityNames.ResolveTenant, i => new TenantInfo(FakeActivities.TenantId, i.Tenant, TenantStatus.Active, ServerOf(i.Tenant), $"tenant_{i.Tenant}", null))
            .Fail(ActivityNames.AcquireServer, _ => null)
            .On<AcquireServerInput, AcquireServerResult>(ActivityNames.AcquireServer, i => i.Source.Name == Eu.Name
                ? throw new InvalidOperationException("the restore time is outside pg-eu-west-1's retention window")
                : new AcquireServerResult($"{i.Source.Name}-pitr-20260422143015", ServerState.Provisioning, true, [i.RunId]));
        var engine = await EngineAsync();
        var batch = "batch-" + NewRunId();

        await engine.StartAsync(RestoreBatchOrchestrator.Name, batch, BatchRequest(parallelism: 4));
        var end = await WaitForEndAsync(batch);

        var result = end.Output<RestoreBatchResult>();
        Assert.Equal(BatchOutcome.PartlySucceeded, result.Outcome);
        Assert.Equal(BatchMemberStates.NotStarted, result.Members[2].State);
        Assert.Contains("retention window", result.Members[2].Detail, StringComparison.Ordinal);
        Assert.Equal(["acme", "globex-health"], Activities.CallsOf(ActivityNames.StartBatchMember).Select(c => c.InputAs<StartBatchMemberInput>().Request.Tenant));
        // The failed acquire may still have recorded the batch's hold: it is released too, so the server never outlives the batch.
        Assert.Equal([FakeActivities.Live.Name, Eu.Name], Activities.CallsOf(ActivityNames.ReleaseServer).Select(c => c.InputAs<ReleaseServerInput>().Source.Name));
        Assert.Equal(["released", "released"], result.Servers.Select(s => s.State));
        Assert.Contains("retention window", result.Servers[1].Detail, StringComparison.Ordinal);
    }

    private static DbServerInfo ServerOf(string tenant) => tenant == "initech" ? Eu : FakeActivities.Live;

    // Read 1: moving; read 2: copy made, parity probed; read 3: ended (initech's copy failed its parity probe).
    private static BatchMemberState Scripted(string runId, int read) => read switch
    {
        1 => new BatchMemberState(runId, "Running", RestoreSteps.Transfer, false, false, null, null, null),
        2 => new BatchMemberState(runId, "Running", RestoreSteps.Parity, false, true, "Pass", null, null),
        _ when runId.Contains("initech", StringComparison.Ordinal) => new BatchMemberState(runId, "Failed", "undo: release the restored server", false, true, "Fail", "Failed", "parity probe: the copy failed parity"),
        _ => new BatchMemberState(runId, "Completed", RestoreSteps.CleanUp, false, true, "Pass", nameof(RestoreOutcome.DryRunCompleted), "dry run done"),
    };

    private static RestoreBatchRequest BatchRequest(int parallelism, RestoreMode mode = RestoreMode.DryRun)
    {
        string[] tenants = ["acme", "globex-health", "initech"];
        var members = tenants.Select(t => new BatchMember(t, $"restore-{t}--20260422143015-b{parallelism}", ServerOf(t).Name)).ToList();
        return new RestoreBatchRequest(members, FakeActivities.RestoreTime, mode, CutoverStrategy.SwapAndKeep, "bad migration on every tenant", "alice", "tenants")
        {
            Parallelism = parallelism,
            PollInterval = TimeSpan.FromMilliseconds(100),
            Settings = Fast,
        };
    }
}
