using System.Text.Json;
using Npgsql;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Host.Tests;

/// <summary>
/// Real crashes of the restore workflow: <c>rcm-pitr serve</c> runs as a child process and is SIGKILLed at a chosen
/// point of a real restore — mid-transfer (streaming, parallel) — then started again on the same databases. Each run must end Restored with the
/// live database equal to the state at T, nothing duplicated (one freeze, one restored audit row) and nothing left
/// (no partial copy, no temporary database, no password file, no program of the killed host still running), the
/// sibling untouched, and no admin password in any output or status.
/// </summary>
public sealed class CrashTests(HostClusterFixture fx)
{
    // Rows of 1.5 kB in the tenant's biggest table at T (about 75 MB, so the streaming transfer copies it in two page
    // ranges side by side): COPY moves it for one to a few seconds on a 2-core machine.
    private const int Documents = 48_000;

    [Fact]
    public async Task SigKill_MidStreamingTransfer_RestartedHostRedoesTheMoveAndRestoresTheStateAtT()
    {
        await using var run = await CrashRun.CreateAsync(fx);
        var (acme, sibling, before) = await ArrangeAsync(run, Documents);
        var id = await run.StartRestoreAsync(acme);
        var copy = acme.Names.Restore(run.Stamp, id);

        // Kill while COPY moves the biggest table: the progress row says "data" and a COPY into the copy has moved bytes.
        await UntilMovingAsync(run, id, copy, "data");
        await run.KillHostAsync();

        // The copy is partial: the COPY of at least one page range of the biggest table died with the host.
        Assert.Equal("data", (await run.TransferProgressAsync(id))!.Value.Phase);
        Assert.StartsWith($"rcm-pitr:loading run={id} ", await run.CommentAsync(copy), StringComparison.Ordinal);
        Assert.InRange(await run.DocumentsInAsync(copy), 0, Documents - 1);
        await run.StartHostAsync();
        var waiting = await run.WaitAsync(id, CrashRun.AwaitingApproval, "approval after the restart");

        await AssertOneFreshCopyAsync(run, id, acme, waiting, "streaming");
        await run.ApproveAsync(id);
        var done = await run.WaitAsync(id, CrashRun.Terminal, "the end of the run");
        await AssertRestoredAsync(run, id, acme, sibling, before, done);
    }

    [Fact]
    public async Task SigKill_MidParallelTransfer_RestartedHostRedoesTheMoveAndRestoresTheStateAtT()
    {
        await using var run = await CrashRun.CreateAsync(fx);
        var (acme, sibling, before) = await ArrangeAsync(run, Documents);
        var id = await run.StartRestoreAsync(acme, transfer: "parallel");
        var copy = acme.Names.Restore(run.Stamp, id);

        // Kill while pg_restore loads the dumped rows into the new database.
        await UntilMovingAsync(run, id, copy, "restore");
        await run.KillHostAsync();

        // pg_restore was running: the killed host leaves it running, loading a copy no process will ever mark loaded.
        Assert.Contains("pg_restore", run.Host.ProgramsAtKill);
        Assert.Equal("restore", (await run.TransferProgressAsync(id))!.Value.Phase);
        Assert.StartsWith($"rcm-pitr:loading run={id} ", await run.CommentAsync(copy), StringComparison.Ordinal);
        await run.StartHostAsync();
        var waiting = await run.WaitAsync(id, CrashRun.AwaitingApproval, "approval after the restart");

        await AssertOneFreshCopyAsync(run, id, acme, waiting, "parallel");
        await run.ApproveAsync(id);
        var done = await run.WaitAsync(id, CrashRun.Terminal, "the end of the run");
        await AssertRestoredAsync(run, id, acme, sibling, before, done);
    }

    /// <summary>Starts the host while it creates the tenant to restore and its sibling, and takes their fingerprints.</summary>
    private static async Task<(CrashRun.Tenant Acme, CrashRun.Tenant Sibling, Before Before)> ArrangeAsync(CrashRun run, int documentsAtT)
    {
        var starting = run.StartHostAsync();
        try
        {
            var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 30, documentsAtT);
            var sibling = await run.AddTenantAsync("globex-health", liveMembers: 6, membersAtT: 2);
            var before = new Before(
                await run.FingerprintAsync(run.Pitr, acme.Database),
                await run.FingerprintAsync(run.Live, acme.Database),
                await run.FingerprintAsync(run.Live, sibling.Database));
            Assert.NotEqual(before.AtT, before.LiveBefore);
            return (acme, sibling, before);
        }
        finally
        {
            await starting;
        }
    }

    /// <summary>
    /// Waits until the transfer's progress row says <paramref name="phase"/> and rows are arriving in <paramref name="copy"/>
    /// (a COPY into it has moved bytes); fails if the transfer gets past that phase first (the test data would be too
    /// small to crash in it).
    /// </summary>
    private static async Task UntilMovingAsync(CrashRun run, string id, string copy, string phase)
    {
        var seen = new List<string>();
        await CrashRun.UntilAsync(
            async () =>
            {
                var progress = await run.TransferProgressAsync(id);
                var copying = progress is not null && await run.CopyingIntoAsync(copy);
                seen.Add((progress is { } s ? $"{s.Phase} {s.Bytes} B{(copying ? " copying" : string.Empty)}" : "-") + $" at {TimeProvider.System.GetUtcNow():HH:mm:ss.fff}");
                if (progress is { Phase: var p } && p != phase && p is not ("schema" or "dump"))
                {
                    Assert.Fail($"the transfer reached phase '{p}' before the test could kill it in '{phase}' (make the test data larger); seen: {string.Join(", ", seen.Distinct())}");
                }

                return progress?.Phase == phase && copying;
            },
            $"the transfer moving rows in phase '{phase}'");
    }

    /// <summary>While the run awaits approval: exactly one copy, filled by this run from scratch, and nothing else of the run.</summary>
    private static async Task AssertOneFreshCopyAsync(CrashRun run, string id, CrashRun.Tenant acme, JsonElement waiting, string mode)
    {
        var copy = acme.Names.Restore(run.Stamp, id);
        Assert.Equal([acme.Database, copy], await run.DatabasesOfAsync(acme));
        Assert.Equal([copy], await run.DatabasesOfRunAsync(id, acme));
        Assert.StartsWith($"rcm-pitr:loaded run={id} ", await run.CommentAsync(copy), StringComparison.Ordinal);
        var transfer = waiting.GetProperty("customStatus").GetProperty("transfer");
        Assert.Equal((mode, "done"), (transfer.GetProperty("mode").GetString(), transfer.GetProperty("phase").GetString()));
        Assert.Equal("succeeded", CrashRun.Step(waiting, RestoreSteps.Transfer)!.Value.GetProperty("outcome").GetString());
        if (run.HostOutputs.Count() > 1)
        {
            // The restarted host found the killed one's partial copy, dropped it and moved everything again.
            Assert.DoesNotContain("finished by an earlier attempt", CrashRun.Step(waiting, RestoreSteps.Transfer)!.Value.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains($"Dropping {copy}: an earlier attempt left it partly filled", run.HostOutputs.Last(), StringComparison.Ordinal);
        }
    }

    /// <summary>The end every crash must converge to.</summary>
    private static async Task AssertRestoredAsync(CrashRun run, string id, CrashRun.Tenant acme, CrashRun.Tenant sibling, Before before, JsonElement done)
    {
        var kept = acme.Names.PrePitr(run.Stamp, id);
        Assert.True(done.GetProperty("runtimeStatus").GetString() == "Completed", done.ToString());
        Assert.Equal("Restored", done.GetProperty("output").GetProperty("outcome").GetString());
        Assert.All(done.GetProperty("customStatus").GetProperty("steps").EnumerateArray(), s => Assert.Equal("succeeded", s.GetProperty("outcome").GetString()));

        // The state at T is live, the previous database kept and marked by this run, both open; nothing else of the run is left.
        Assert.Equal(before.AtT, await run.FingerprintAsync(run.Live, acme.Database));
        Assert.Equal(before.LiveBefore, await run.FingerprintAsync(run.Live, kept));
        Assert.Equal([acme.Database, kept], await run.DatabasesOfAsync(acme));
        Assert.Equal([acme.Database, kept], await run.DatabasesOfRunAsync(id, acme));
        Assert.Equal($"rcm-pitr:kept run={id} stamp={run.Stamp}", await run.CommentAsync(kept));
        Assert.True(await run.AllowsConnectionsAsync(acme.Database), "the live database refuses connections");
        Assert.True(await run.AllowsConnectionsAsync(kept), "the kept database refuses connections");

        // Frozen once, unfrozen once, restored once; the tenant active again.
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE idempotency_key = $1", $"{id}:freeze"));
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE idempotency_key = $1", $"{id}:unfreeze"));
        Assert.Equal(2L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_STATUS_CHANGED'", acme.Id));
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", acme.Id));
        Assert.Equal("bob", await run.MasterScalarAsync<string>("SELECT details->>'approvedBy' FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", acme.Id));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_FAILED'", acme.Id));

        // The sibling: same rows, never frozen, no derived database.
        Assert.Equal(before.SiblingBefore, await run.FingerprintAsync(run.Live, sibling.Database));
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", sibling.Id));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", sibling.Id));
        Assert.Equal([sibling.Database], await run.DatabasesOfAsync(sibling));

        // Nothing left on disk or running, and no secret shown anywhere.
        Assert.False(Directory.Exists(Path.Combine(run.Scratch, id)), "the run's scratch folder was left");
        Assert.Empty(run.PasswordFilesLeft());
        await CrashRun.UntilAsync(() => Task.FromResult(run.OrphansStillRunning().Count == 0), "the end of every program the killed host started", TimeSpan.FromSeconds(60));
        Assert.True(run.StatusBodiesRead > 0);
        Assert.Empty(await run.SecretsShownAsync());
    }

    private static DateTimeOffset StartedAt(JsonElement status, string step) => CrashRun.Step(status, step)!.Value.GetProperty("startedAt").GetDateTimeOffset();

    private static DateTimeOffset EndedAt(JsonElement status, string step) => CrashRun.Step(status, step)!.Value.GetProperty("endedAt").GetDateTimeOffset();

    private sealed record Before(string AtT, string LiveBefore, string SiblingBefore);

}
