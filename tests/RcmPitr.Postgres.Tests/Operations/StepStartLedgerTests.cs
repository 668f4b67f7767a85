using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class StepStartLedgerTests(ClusterFixture fx)
{
    [Fact]
    public async Task RunAsync_AbortedAsOftenAsAllowed_RefusesTheNextStartWithoutRunningIt()
    {
        await using var s = await Scenario.StartAsync(fx);
        var ledger = new StepStartLedger(s.Master, new DataMoverOptions { MaxAbortedStarts = 3 }, TimeProvider.System);
        var runId = $"restore-{s.NewSlug()}--20260422143015-1a2b3c4d";
        var ran = 0;

        // The host aborts the step each time (Azure Functions at functionTimeout): it never ends, and Durable starts it again.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var abort = new CancellationTokenSource();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.RunAsync(runId, "MoveTenant", async token =>
            {
                ran++;
                await abort.CancelAsync();
                token.ThrowIfCancellationRequested();
                return 0;
            }, abort.Token));
        }

        var refused = await Assert.ThrowsAsync<StepRestartedTooOftenException>(() => ledger.RunAsync(runId, "MoveTenant", _ => Task.FromResult(++ran), CancellationToken.None));
        var otherStep = await ledger.RunAsync(runId, "DumpTenant", _ => Task.FromResult(42), CancellationToken.None);

        Assert.Equal(3, ran);
        Assert.Equal("step_restarted_too_often", refused.Code);
        Assert.Contains("MoveTenant of run " + runId + " was started 3 times without ever ending", refused.Message, StringComparison.Ordinal);
        Assert.Contains("DataMover:MaxAbortedStarts", refused.Message, StringComparison.Ordinal);
        Assert.Contains("functionTimeout (host.json)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(42, otherStep);
    }

    [Fact]
    public async Task RunAsync_StartsThatEndInSuccessOrFailure_AreNeverRefused()
    {
        await using var s = await Scenario.StartAsync(fx);
        var ledger = new StepStartLedger(s.Master, new DataMoverOptions { MaxAbortedStarts = 1 }, TimeProvider.System);
        var runId = $"restore-{s.NewSlug()}--20260422143015-5e6f7a8b";

        // Failures the workflow retries end their attempt: they are not aborts.
        for (var attempt = 0; attempt < 4; attempt++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => ledger.RunAsync<int>(runId, "DumpTenant", _ => throw new InvalidOperationException("server closed the connection"), CancellationToken.None));
        }

        var done = await ledger.RunAsync(runId, "DumpTenant", _ => Task.FromResult("dumped"), CancellationToken.None);
        var again = await ledger.RunAsync(runId, "DumpTenant", _ => Task.FromResult("reused"), CancellationToken.None);

        Assert.Equal("dumped", done);
        Assert.Equal("reused", again);
        var row = await s.MasterScalarAsync<string>("SELECT starts || '/' || ends FROM rcm_pitr.activity_starts WHERE run_id = $1 AND step = 'DumpTenant'", runId);
        Assert.Equal("6/6", row);
    }

    [Fact]
    public async Task RunAsync_MasterFailsWhileTheEndIsCounted_ReturnsTheStepsOwnResultOrRefusal()
    {
        await using var s = await Scenario.StartAsync(fx);
        var ledger = new StepStartLedger(s.Master, new DataMoverOptions { MaxAbortedStarts = 3 }, TimeProvider.System);
        var runId = $"restore-{s.NewSlug()}--20260422143015-9c8d7e6f";
        // The ledger's table goes away while the step runs: counting its end fails as a master that cannot be reached would.
        async Task LoseTheLedgerAsync() => await s.ExecMasterAsync("ALTER TABLE rcm_pitr.activity_starts RENAME TO activity_starts_away");
        async Task RestoreTheLedgerAsync() => await s.ExecMasterAsync("ALTER TABLE rcm_pitr.activity_starts_away RENAME TO activity_starts");

        try
        {
            var moved = await ledger.RunAsync(runId, "MoveTenant", async _ =>
            {
                await LoseTheLedgerAsync();
                return "moved";
            }, CancellationToken.None);
            Assert.Equal("moved", moved);
            await RestoreTheLedgerAsync();

            // A refusal stays a refusal (never retried), not a transient database error the workflow would retry.
            var refusal = await Assert.ThrowsAsync<DatabaseStateConflictException>(() => ledger.RunAsync<int>(runId, "MoveTenant", async _ =>
            {
                await LoseTheLedgerAsync();
                throw new DatabaseStateConflictException("another run's database is in the way");
            }, CancellationToken.None));
            Assert.Contains("another run's database", refusal.Message, StringComparison.Ordinal);
        }
        finally
        {
            await s.ExecMasterAsync("DO $$ BEGIN IF to_regclass('rcm_pitr.activity_starts_away') IS NOT NULL THEN ALTER TABLE rcm_pitr.activity_starts_away RENAME TO activity_starts; END IF; END $$");
        }
    }
}
