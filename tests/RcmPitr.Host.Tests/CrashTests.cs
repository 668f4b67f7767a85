using System.Globalization;
using System.Text.Json;
using Npgsql;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Host.Tests;

/// <summary>
/// Real crashes of the restore workflow: <c>rcm-pitr serve</c> runs as a child process and is SIGKILLed at a chosen
/// point of a real restore — mid-transfer (streaming, parallel), in the cache wait, inside the swap's transaction,
/// between the cutover and the unfreeze — then started again on the same databases. Each run must end Restored with the
/// live database equal to the state at T, nothing duplicated (one freeze, one restored audit row) and nothing left
/// (no partial copy, no temporary database, no password file, no program of the killed host still running), the
/// sibling untouched, and no admin password in any output or status.
/// </summary>
public sealed class CrashTests(HostClusterFixture fx)
{
    // Rows of 1.5 kB in the tenant's biggest table at T (about 75 MB, so the streaming transfer copies it in two page
    // ranges side by side): COPY moves it for one to a few seconds on a 2-core machine.
    private const int Documents = 48_000;

    // Rows of 1.5 kB in a second large table (about 50 MB): long enough to be caught streaming.
    private const int Attachments = 32_000;

    [Fact]
    public async Task SigKill_MidStreamingTransfer_RestartedHostResumesTheMoveKeepingTheFinishedTable()
    {
        // One worker, so the pieces go one after the other: the documents (the biggest table, one piece), then the
        // attachments. The kill comes while the attachments stream, the documents committed.
        await using var run = await CrashRun.CreateAsync(fx, new Dictionary<string, string?> { ["RcmPitr:DataMover:TransferJobs"] = "1" });
        var (acme, sibling, before) = await ArrangeAsync(run, Documents, Attachments);
        var id = await run.StartRestoreAsync(acme);
        var copy = acme.Names.Restore(run.Stamp, id);

        await CrashRun.UntilAsync(
            async () => await CommittedPiecesAsync(run, copy, "document") == 1 && await run.CopyingIntoAsync(copy),
            "the documents committed and the attachments streaming");
        await run.KillHostAsync();

        Assert.Equal(0L, await CommittedPiecesAsync(run, copy, "attachment"));
        Assert.StartsWith($"rcm-pitr:loading run={id} ", await run.CommentAsync(copy), StringComparison.Ordinal);
        Assert.Equal(Documents, await run.DocumentsInAsync(copy));
        await run.StartHostAsync();
        var waiting = await run.WaitAsync(id, CrashRun.AwaitingApproval, "approval after the restart");

        // The restarted host kept the documents and copied only what was not committed: less than the documents' bytes.
        await AssertOneFreshCopyAsync(run, id, acme, waiting, "streaming", resumed: true);
        var (moved, kept) = TransferBytes(waiting);
        Assert.True(kept >= Documents * 1_536L, $"kept {kept} bytes, less than the documents'");
        Assert.True(moved > 0 && moved < kept, $"copied {moved} bytes after the restart, {kept} kept");
        await run.ApproveAsync(id);
        var done = await run.WaitAsync(id, CrashRun.Terminal, "the end of the run");
        await AssertRestoredAsync(run, id, acme, sibling, before, done);
    }

    [Fact]
    public async Task SigKill_DuringIndexBuilds_RestartedHostCopiesNothingAgainAndRestoresTheStateAtT()
    {
        await using var run = await CrashRun.CreateAsync(fx);
        var (acme, sibling, before) = await ArrangeAsync(run, Documents, attachments: 0, indexDocumentBodies: true);
        var id = await run.StartRestoreAsync(acme);
        var copy = acme.Names.Restore(run.Stamp, id);

        // Every piece is in; an index of the copy is being built.
        await CrashRun.UntilAsync(
            async () => await run.LiveScalarAsync<long>("SELECT count(*) FROM pg_stat_progress_create_index WHERE datname = $1", copy) > 0
                        && (await run.TransferProgressAsync(id))?.Phase == "indexes",
            "an index build into the copy");
        await run.KillHostAsync();
        Assert.StartsWith($"rcm-pitr:loading run={id} ", await run.CommentAsync(copy), StringComparison.Ordinal);
        await run.StartHostAsync();
        var waiting = await run.WaitAsync(id, CrashRun.AwaitingApproval, "approval after the restart");

        await AssertOneFreshCopyAsync(run, id, acme, waiting, "streaming", resumed: true);
        var (moved, kept) = TransferBytes(waiting);
        Assert.Equal(0L, moved);
        Assert.True(kept >= Documents * 1_536L, $"kept {kept} bytes, less than the documents'");
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

    [Fact]
    public async Task SigKill_DuringTheCacheWait_RestartedHostEndsTheWaitAtItsDurableTimeAndFreezesOnce()
    {
        // The restarted host must be up within the ttl, and its end of the wait seen within the kill's offset of its time.
        var ttl = TimeSpan.FromSeconds(25);
        var killAfter = TimeSpan.FromSeconds(10);
        await using var run = await CrashRun.CreateAsync(fx, new Dictionary<string, string?> { ["RcmPitr:Restore:StatusCacheTtl"] = ttl.ToString("c", CultureInfo.InvariantCulture) });
        var (acme, sibling, before) = await ArrangeAsync(run, documentsAtT: 0);
        var id = await run.StartRestoreAsync(acme);

        // Kill some seconds into the wait, so a wait started again by the next process would visibly end later.
        var waiting = await run.WaitAsync(id, s => CrashRun.StepIs(s, RestoreSteps.CacheWait, "running"), "the cache wait");
        var waitStarted = StartedAt(waiting, RestoreSteps.CacheWait);
        await run.WaitAsync(
            id,
            s => CrashRun.StepIs(s, RestoreSteps.CacheWait, "running")
                ? TimeProvider.System.GetUtcNow() >= waitStarted + killAfter
                : throw new InvalidOperationException($"the cache wait ended within {killAfter.TotalSeconds} s: {s}"),
            "some seconds of the cache wait");
        await run.KillHostAsync();

        Assert.Equal("read_only", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
        var restartedAt = TimeProvider.System.GetUtcNow();
        await run.StartHostAsync();
        var waited = await run.WaitAsync(id, s => CrashRun.StepIs(s, RestoreSteps.CacheWait, "succeeded"), "the end of the cache wait");
        var seenEnded = TimeProvider.System.GetUtcNow();

        // Not before its time, and sooner than a wait started again by the restarted host could have ended.
        var ended = EndedAt(waited, RestoreSteps.CacheWait);
        Assert.True(ended >= waitStarted + ttl, $"the wait ended at {ended:O}, before its time {waitStarted + ttl:O}");
        Assert.True(ended < restartedAt + ttl && seenEnded < restartedAt + ttl,
            $"the wait that started at {waitStarted:O} ended at {ended:O} (seen at {seenEnded:O}): it was started again when the host restarted at {restartedAt:O}");
        await run.WaitAsync(id, CrashRun.AwaitingApproval, "approval after the restart");
        await run.ApproveAsync(id);
        var done = await run.WaitAsync(id, CrashRun.Terminal, "the end of the run");
        await AssertRestoredAsync(run, id, acme, sibling, before, done);
    }

    [Fact]
    public async Task SigKill_InsideTheSwapTransaction_LeavesNoHalfSwapAndTheRestartedHostCompletesIt()
    {
        await using var run = await CrashRun.CreateAsync(fx);
        var (acme, sibling, before) = await ArrangeAsync(run, documentsAtT: 0);
        var id = await run.StartRestoreAsync(acme);
        var waiting = await run.WaitAsync(id, CrashRun.AwaitingApproval, "approval");
        await AssertOneFreshCopyAsync(run, id, acme, waiting, "streaming");
        string copy = acme.Names.Restore(run.Stamp, id), kept = acme.Names.PrePitr(run.Stamp, id);

        // An uncommitted catalog update of the restored copy makes the swap's second rename wait, inside its transaction,
        // after its first rename (live → kept) ran.
        await using var blocker = await run.OpenLiveMaintenanceAsync();
        await using var hold = await blocker.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var update = new NpgsqlCommand($"ALTER DATABASE {PgQuote.Identifier(copy)} WITH ALLOW_CONNECTIONS true", blocker, hold))
        {
            await update.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await run.ApproveAsync(id);
        var swapSession = 0;
        await CrashRun.UntilAsync(
            async () => (swapSession = await run.LiveScalarAsync<int>(
                "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE application_name = $1 AND $2 = ANY (pg_blocking_pids(pid)) AND query LIKE '%' || $3 || '%RENAME TO%'",
                run.ApplicationName, blocker.ProcessID, PgQuote.Identifier(copy))) != 0,
            "the swap waiting on its second rename");
        Assert.True(CrashRun.StepIs(await run.StatusAsync(id), RestoreSteps.Cutover, "running"));
        await run.KillHostAsync();
        await hold.RollbackAsync(TestContext.Current.CancellationToken);
        await run.SessionEndedAsync(swapSession);

        // The killed host's transaction could not commit: every name is where it was before the swap, or (never seen
        // with one transaction) where it would be after it — never a live name missing or a copy renamed alone.
        var names = await run.DatabasesOfAsync(acme);
        var liveMarker = await run.CommentAsync(acme.Database);
        var loaded = $"rcm-pitr:loaded run={id} ";
        var beforeSwap = names.SequenceEqual([acme.Database, copy]) && liveMarker is null
                         && (await run.CommentAsync(copy))?.StartsWith(loaded, StringComparison.Ordinal) == true;
        var afterSwap = names.SequenceEqual([acme.Database, kept]) && liveMarker?.StartsWith(loaded, StringComparison.Ordinal) == true
                        && await run.CommentAsync(kept) == $"rcm-pitr:kept run={id} stamp={run.Stamp}";
        Assert.True(beforeSwap || afterSwap, $"half a swap: {string.Join(", ", names)}; live marker {liveMarker ?? "none"}");
        await run.StartHostAsync();
        var done = await run.WaitAsync(id, CrashRun.Terminal, "the end of the run");
        await AssertRestoredAsync(run, id, acme, sibling, before, done);
    }

    [Fact]
    public async Task SigKill_AfterTheCutoverInTheUnfreezeAndAgainInTheAudit_TenantEndsActiveAndRestoredIsAuditedOnce()
    {
        await using var run = await CrashRun.CreateAsync(fx);
        var (acme, sibling, before) = await ArrangeAsync(run, documentsAtT: 0);
        var id = await run.StartRestoreAsync(acme);
        await run.WaitAsync(id, CrashRun.AwaitingApproval, "approval");

        // Uncommitted audit rows with the keys of the unfreeze's and of the restore's audit row make those writes wait.
        await using var unfreeze = await AuditKeyHold.TakeAsync(run, $"{id}:unfreeze");
        await using var audit = await AuditKeyHold.TakeAsync(run, $"{id}:TENANT_PITR_RESTORED");
        await run.ApproveAsync(id);

        // First crash: after the cutover, inside the unfreeze's transaction. Released after the kill, the killed host's
        // transaction cannot commit (its client is gone before the commit).
        var session = await unfreeze.WaiterAsync(run, id, RestoreSteps.Unfreeze);
        var status = await run.StatusAsync(id);
        Assert.True(CrashRun.StepIs(status, RestoreSteps.Cutover, "succeeded") && CrashRun.StepIs(status, RestoreSteps.Unfreeze, "running"), status.ToString());
        await run.KillHostAsync();
        await unfreeze.ReleaseAsync();
        await run.SessionEndedAsync(session);

        Assert.StartsWith($"rcm-pitr:loaded run={id} ", await run.CommentAsync(acme.Database), StringComparison.Ordinal);
        Assert.Equal("read_only", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE idempotency_key IN ($1, $2)", $"{id}:unfreeze", $"{id}:TENANT_PITR_RESTORED"));

        // Second crash: the restarted host unfroze the tenant and is writing the restore's audit row. That write is one
        // statement: released after the kill, it commits although its host is dead — the retry must find it, not add one.
        await run.StartHostAsync();
        session = await audit.WaiterAsync(run, id, RestoreSteps.Audit);
        status = await run.StatusAsync(id);
        Assert.True(CrashRun.StepIs(status, RestoreSteps.Unfreeze, "succeeded") && CrashRun.StepIs(status, RestoreSteps.Audit, "running"), status.ToString());
        await run.KillHostAsync();
        await audit.ReleaseAsync();
        await run.SessionEndedAsync(session);

        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", acme.Id));
        await run.StartHostAsync();
        var done = await run.WaitAsync(id, CrashRun.Terminal, "the end of the run");
        await AssertRestoredAsync(run, id, acme, sibling, before, done);
    }

    /// <summary>Starts the host while it creates the tenant to restore and its sibling, and takes their fingerprints.</summary>
    private async Task<(CrashRun.Tenant Acme, CrashRun.Tenant Sibling, Before Before)> ArrangeAsync(CrashRun run, int documentsAtT, int attachments = 0, bool indexDocumentBodies = false)
    {
        var starting = run.StartHostAsync();
        try
        {
            var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 30, documentsAtT);
            if (attachments > 0)
            {
                // A second large table at T (in the fingerprint the restore is checked against).
                await fx.ExecAsync(run.Pitr, acme.Database, $"CREATE TABLE members.attachment (id bigint PRIMARY KEY, body text NOT NULL); INSERT INTO members.attachment SELECT g, repeat(md5((g * 3)::text), 48) FROM generate_series(1, {attachments}) g;");
            }

            if (indexDocumentBodies)
            {
                // An index that takes a while to build (about 75 MB of keys), so a kill can land inside it.
                await fx.ExecAsync(run.Pitr, acme.Database, "CREATE INDEX document_body ON members.document (body)");
            }

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
                if (progress is { Phase: var p } && p != phase && p is not ("starting" or "schema" or "dump"))
                {
                    Assert.Fail($"the transfer reached phase '{p}' before the test could kill it in '{phase}' (make the test data larger); seen: {string.Join(", ", seen.Distinct())}");
                }

                return progress?.Phase == phase && copying;
            },
            $"the transfer moving rows in phase '{phase}'");
    }

    /// <summary>Pieces of <c>members.&lt;table&gt;</c> the move has committed into <paramref name="copy"/> (0 before its ledger exists).</summary>
    private async Task<long> CommittedPiecesAsync(CrashRun run, string copy, string table)
    {
        if (!await run.LiveScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", copy)
            || !await fx.ScalarAsync<bool>(run.Live, copy, "SELECT to_regclass('_rcm_pitr_move.pieces') IS NOT NULL"))
        {
            return 0;
        }

        return await fx.ScalarAsync<long>(run.Live, copy, "SELECT count(*) FROM _rcm_pitr_move.pieces WHERE done_at IS NOT NULL AND item LIKE $1", $"data \"members\".\"{table}\"%");
    }

    /// <summary>The bytes the transfer step copied and the bytes it kept from an interrupted attempt, from its detail.</summary>
    private static (long Moved, long Kept) TransferBytes(JsonElement status)
    {
        var detail = CrashRun.Step(status, RestoreSteps.Transfer)!.Value.GetProperty("detail").GetString()!;
        var moved = System.Text.RegularExpressions.Regex.Match(detail, @" (\d+) bytes moved ");
        var kept = System.Text.RegularExpressions.Regex.Match(detail, @"resumed: (\d+) bytes kept");
        Assert.True(moved.Success && kept.Success, detail);
        return (long.Parse(moved.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(kept.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>While the run awaits approval: exactly one copy, filled by this run from scratch, and nothing else of the run.</summary>
    private static async Task AssertOneFreshCopyAsync(CrashRun run, string id, CrashRun.Tenant acme, JsonElement waiting, string mode, bool resumed = false)
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
            Assert.DoesNotContain("finished by an earlier attempt", CrashRun.Step(waiting, RestoreSteps.Transfer)!.Value.GetProperty("detail").GetString(), StringComparison.Ordinal);
            if (resumed)
            {
                // The restarted host found the killed one's partial copy and went on from what it had committed.
                Assert.Contains($"Resumed the move into {copy}", run.HostOutputs.Last(), StringComparison.Ordinal);
                Assert.DoesNotContain($"Dropping {copy}", run.HostOutputs.Last(), StringComparison.Ordinal);
            }
            else
            {
                // The restarted host found the killed one's partial copy, dropped it and moved everything again.
                Assert.Contains($"Dropping {copy}: an earlier attempt left it partly filled", run.HostOutputs.Last(), StringComparison.Ordinal);
            }
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

    /// <summary>
    /// A test session's uncommitted audit row with a run's idempotency key: the run's write of that key waits on it, and
    /// goes ahead once it is rolled back. The row names a tenant of its own, because a row naming the restored tenant
    /// would hold a key-share lock on its row, which the freeze confirmation before the cutover waits on.
    /// </summary>
    private sealed class AuditKeyHold(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public static async Task<AuditKeyHold> TakeAsync(CrashRun run, string key)
        {
            var holder = Guid.NewGuid();
            await run.ExecMasterAsync("INSERT INTO identity.tenant (id, slug, db_server, db_config_ref) VALUES ($1, $2, $3, 'none')", holder, $"holder-{holder:N}", run.Live.Name);
            var connection = await run.OpenMasterAsync();
            var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
            await using var insert = new NpgsqlCommand(
                "INSERT INTO identity.tenant_audit (tenant_id, event, actor, reason, idempotency_key) VALUES ($1, 'TEST_HOLD', 'test', 'holds a write of the run', $2)", connection, transaction);
            insert.Parameters.Add(new NpgsqlParameter { Value = holder });
            insert.Parameters.Add(new NpgsqlParameter { Value = key });
            await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            return new AuditKeyHold(connection, transaction);
        }

        /// <summary>Waits until a host session waits on this row while run <paramref name="runId"/> is in <paramref name="step"/>; returns its pid.</summary>
        public async Task<int> WaiterAsync(CrashRun run, string runId, string step)
        {
            var pid = 0;
            await CrashRun.UntilAsync(
                async () =>
                {
                    pid = await run.LiveScalarAsync<int>(
                        "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = $1 AND $2 = ANY (pg_blocking_pids(pid))", run.Master, connection.ProcessID);
                    if (pid == 0 && await run.StatusAsync(runId) is var status && (CrashRun.Terminal(status) || CrashRun.StepIs(status, step, "succeeded")))
                    {
                        Assert.Fail($"'{step}' did not wait on the held audit key (did it write another key?): {status}");
                    }

                    return pid != 0;
                },
                $"'{step}' waiting on the held audit key");
            return pid;
        }

        public Task ReleaseAsync() => transaction.RollbackAsync(TestContext.Current.CancellationToken);

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
