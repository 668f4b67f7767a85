using RcmPitr.Scenarios.Tests.Activities;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Recoveries;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Scenarios.Tests;

/// <summary>The server recovery (region loss) on each engine, over scripted activities.</summary>
public abstract partial class OrchestratorScenarios
{
    [Fact]
    public async Task RecoverServer_OneTenantsRepointFails_TheOtherIsRecoveredAndTheFailedOneUnfrozen()
    {
        Activities.On<RepointTenantInput, RepointTenantResult>(RecoveryActivityNames.RepointTenant, i => i.Tenant == "globex-health"
            ? throw new DatabaseStateConflictException("Tenant globex-health is on server pg-elsewhere, not on the lost server")
            : new RepointTenantResult(i.LostServer, "tenant-db-acme", "tenant-db-acme-geo", "tenant_acme", true));
        var (engine, recovery) = await StartRecoveryAsync();
        await WaitUntilAsync(recovery, s => AwaitingRecoveryApproval(s), "the recovery awaits approval");
        // Nothing is re-pointed before the one approval; the server is Ready and both tenants were frozen and checked there.
        Assert.Empty(Activities.CallsOf(RecoveryActivityNames.RepointTenant));
        Assert.Equal(2, Activities.CallsOf(ActivityNames.FreezeTenant).Count);
        Assert.Equal(2, Activities.CallsOf(RecoveryActivityNames.CheckRecoveredTenant).Count);

        await engine.RaiseEventAsync(recovery, RestoreEvents.Approval, new ApprovalDecision(true, "bob"));
        var end = await WaitForEndAsync(recovery);

        var result = end.Output<RecoverServerResult>();
        Assert.Equal(RecoveryOutcome.PartlyRecovered, result.Outcome);
        Assert.Equal([("acme", RecoveryTenantStates.Recovered), ("globex-health", RecoveryTenantStates.Failed)], result.Tenants.Select(t => (t.Tenant, t.State)));
        Assert.Contains("pg-elsewhere", result.Tenants[1].Detail, StringComparison.Ordinal);
        // Each tenant unfrozen under its own member id; the recovered one audited as recovered, the other as failed.
        Assert.Equal(
            [$"{recovery}.acme", $"{recovery}.globex-health"],
            Activities.CallsOf(ActivityNames.UnfreezeTenant).Select(c => c.InputAs<UnfreezeTenantInput>().RunId).Order(StringComparer.Ordinal));
        var audits = Activities.CallsOf(ActivityNames.WriteAudit).Select(c => c.InputAs<WriteAuditInput>()).ToList();
        Assert.Equal(
            [($"{recovery}.acme", AuditEvents.ServerRecovered), ($"{recovery}.globex-health", AuditEvents.ServerRecoveryFailed)],
            audits.Select(a => (a.RunId, a.Event)).Order());
        Assert.Equal("latest archived state, not a point in time", audits.Single(a => a.Event == AuditEvents.ServerRecovered).Details!["restorePoint"]);
        Assert.Equal("bob", audits.Single(a => a.Event == AuditEvents.ServerRecovered).Details!["approvedBy"]);
        Assert.Equal("completed", end.CustomStatus.GetProperty("phase").GetString());
    }

    [Fact]
    public async Task RecoverServer_RequesterApproves_IsRefusedAndRecordedThenASecondPersonDecides()
    {
        var (engine, recovery) = await StartRecoveryAsync();
        await WaitUntilAsync(recovery, s => AwaitingRecoveryApproval(s), "the recovery awaits approval");

        await engine.RaiseEventAsync(recovery, RestoreEvents.Approval, new ApprovalDecision(true, "Alice", DecidedById: " ALICE "));
        await WaitUntilAsync(recovery, s => s.CustomStatus.GetProperty("decisions").GetArrayLength() == 1, "the refused decision is recorded");
        Assert.True(AwaitingRecoveryApproval(await GetAsync(recovery)));
        Assert.Empty(Activities.CallsOf(RecoveryActivityNames.RepointTenant));

        await engine.RaiseEventAsync(recovery, RestoreEvents.Approval, new ApprovalDecision(true, "bob"));
        var end = await WaitForEndAsync(recovery);

        Assert.Equal(RecoveryOutcome.Recovered, end.Output<RecoverServerResult>().Outcome);
        var decisions = end.CustomStatus.GetProperty("decisions").EnumerateArray().Select(d => (d.GetProperty("by").GetString(), d.GetProperty("accepted").GetBoolean())).ToList();
        Assert.Equal([("Alice", false), ("bob", true)], decisions);
        Assert.Equal(2, Activities.CallsOf(RecoveryActivityNames.RepointTenant).Count);
    }

    [Fact]
    public async Task RecoverServer_Rejected_UnfreezesEveryTenantRepointsNoneAndKeepsTheRecoveredServerForAnOperator()
    {
        var (engine, recovery) = await StartRecoveryAsync();
        await WaitUntilAsync(recovery, s => AwaitingRecoveryApproval(s), "the recovery awaits approval");

        await engine.RaiseEventAsync(recovery, RestoreEvents.Approval, new ApprovalDecision(false, "bob", "the region is back"));
        var end = await WaitForEndAsync(recovery);

        var result = end.Output<RecoverServerResult>();
        Assert.Equal(RecoveryOutcome.Rejected, result.Outcome);
        Assert.All(result.Tenants, t => Assert.Equal(RecoveryTenantStates.Stopped, t.State));
        Assert.Empty(Activities.CallsOf(RecoveryActivityNames.RepointTenant));
        Assert.Equal(2, Activities.CallsOf(ActivityNames.UnfreezeTenant).Count);
        Assert.All(Activities.CallsOf(ActivityNames.WriteAudit), c => Assert.Equal(AuditEvents.ServerRecoveryFailed, c.InputAs<WriteAuditInput>().Event));
        Assert.Contains("kept for an operator", end.CustomStatus.GetProperty("operatorAction").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecoverServer_ServerStillAnswers_IsRefusedBeforeAnythingIsRestoredOrFrozen()
    {
        Activities.On<ProbeServerInput, ProbeServerResult>(RecoveryActivityNames.ProbeServer, i => new ProbeServerResult(i.Server.Name, true, $"{i.Server.Name} answered"));
        var (_, recovery) = await StartRecoveryAsync();

        var end = await WaitForEndAsync(recovery);

        Assert.Equal(RecoveryOutcome.Refused, end.Output<RecoverServerResult>().Outcome);
        Assert.Equal([RecoveryActivityNames.ListServerTenants, RecoveryActivityNames.ProbeServer], Activities.Names);
    }

    private async Task<(Engines.ScenarioEngine Engine, string Recovery)> StartRecoveryAsync()
    {
        var engine = await EngineAsync();
        var recovery = "recovery-" + NewRunId();
        var request = new RecoverServerRequest(FakeActivities.Live.Name, "20261202080000", "region lost", "alice") { RequestedById = "alice", Settings = Fast };
        await engine.StartAsync(RecoverServerOrchestrator.Name, recovery, request);
        return (engine, recovery);
    }

    private static bool AwaitingRecoveryApproval(Engines.RunSnapshot snapshot) =>
        snapshot.CustomStatusJson is not null && snapshot.CustomStatus.GetProperty("awaitingApproval").GetBoolean();
}
