using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Tests.Restores;

public sealed class RollbackAndRetentionOrchestratorTests
{
    [Fact]
    public async Task Rollback_SwapsBackInvalidatesAndAudits()
    {
        var context = Script.HappyPath(new ScriptedContext("rollback-1"));

        var result = await new RollbackOrchestrator().RunAsync(context, new RollbackRequest("run-1", "acme", Script.RestoreTime, "wrong restore", "alice"));

        Assert.Equal([ActivityNames.ResolveTenant, ActivityNames.RollbackSwap, ActivityNames.InvalidateTenantCache, ActivityNames.WriteAudit], context.CallNames);
        Assert.Equal("run-1", context.InputsOf<RollbackSwapInput>(ActivityNames.RollbackSwap).Single().RunId);
        Assert.Equal(AuditEvents.PitrRolledBack, context.InputsOf<WriteAuditInput>(ActivityNames.WriteAudit).Single().Event);
        Assert.Equal(RestoreOutcome.RolledBack, result.Outcome);
    }

    [Fact]
    public async Task RetentionDrop_WaitsUntilDueThenDropsTheKeptDatabase()
    {
        var context = Script.HappyPath(new ScriptedContext("run-1-drop-kept"));
        var due = new DateTime(2026, 4, 30, 9, 0, 0, DateTimeKind.Utc);

        var result = await new RetentionDropOrchestrator().RunAsync(context, new RetentionDropRequest("run-1", Script.Live, "acme", "202604221430", due));

        Assert.Equal(due, Assert.Single(context.Timers));
        Assert.Equal(DerivedDatabaseKind.PrePitr, context.InputsOf<DropDerivedDatabaseInput>(ActivityNames.DropDerivedDatabase).Single().Kind);
        Assert.True(result.Dropped);
    }
}
