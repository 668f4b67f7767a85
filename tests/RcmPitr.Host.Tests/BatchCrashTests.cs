using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Host.Tests;

/// <summary>
/// Real crashes of a batch: <c>rcm-pitr serve</c> runs as a child process and is SIGKILLed at a chosen point of a real
/// batch of two tenants — while its members move their databases, while every member awaits approval, and right after the
/// batch was accepted (before any member started) — then started again on the same databases. The restarted host must
/// carry the batch to its end: one approval of the batch restores both tenants to the state at T, each member ran as one
/// run (its own id, one freeze, one restored audit row), the sibling is untouched, and no hold or restored server is left.
/// </summary>
public sealed class BatchCrashTests(HostClusterFixture fx)
{
    // Rows of 1.5 kB in each member's biggest table at T (about 75 MB each): COPY moves it for seconds on a 2-core machine,
    // with both members moving at once.
    private const int Documents = 48_000;

    private static readonly Dictionary<string, string?> FastBatch = new() { ["RcmPitr:Batch:PollInterval"] = "00:00:00.500" };

    [Fact]
    public async Task SigKill_WhileMembersMoveTheirDatabases_RestartedHostCarriesTheBatchToOneApprovalAndRestoresBoth()
    {
        await using var run = await CrashRun.CreateAsync(fx, FastBatch);
        var world = await ArrangeAsync(run, Documents);
        var (id, members) = await run.StartBatchAsync([world.Acme, world.Globex], parallelism: 2);

        // Both members started by the batch, and at least one is loading its biggest table into its copy.
        await run.WaitBatchAsync(id, s => Counts(s, "running") == 2, "both members running");
        var copying = await UntilAMemberCopiesAsync(run, world, members);
        await run.KillHostAsync();

        // The copy being loaded is partial and marked loading by its run; the batch and that member hold the restored server.
        foreach (var tenant in copying)
        {
            var runId = members[tenant.Slug];
            var copy = tenant.Names.Restore(run.Stamp, runId);
            Assert.StartsWith($"rcm-pitr:loading run={runId} ", await run.CommentAsync(copy), StringComparison.Ordinal);
            Assert.InRange(await run.DocumentsInAsync(copy), 0, Documents - 1);
        }

        var holders = await HoldersAsync(run);
        Assert.Contains(id, holders);
        Assert.All(copying, t => Assert.Contains(members[t.Slug], holders));
        Assert.Subset(new HashSet<string>([id, .. members.Values]), new HashSet<string>(holders));

        await run.StartHostAsync();
        var waiting = await run.WaitBatchAsync(id, s => Counts(s, "awaitingApproval") == 2, "both members awaiting approval after the restart");
        foreach (var tenant in copying)
        {
            // The restarted host found the killed one's partial copy and resumed the move into it.
            var copy = tenant.Names.Restore(run.Stamp, members[tenant.Slug]);
            Assert.True(run.HostOutputs.Last().Contains($"Resuming the move into {copy}: an earlier attempt of this run left it partly filled", StringComparison.Ordinal),
                $"the restarted host did not resume the partial copy {copy}\n{run.HostLogTail()}");
        }

        await AssertAwaitingAsync(run, id, world, members, waiting);
        Assert.Equal(2, await run.ApproveBatchAsync(id));
        var done = await run.WaitBatchAsync(id, CrashRun.Terminal, "the end of the batch");
        await AssertBatchRestoredAsync(run, id, world, members, done);
    }

    [Fact]
    public async Task SigKill_WhileEveryMemberAwaitsApproval_RestartedHostTakesTheBatchDecisionAndRestoresBoth()
    {
        await using var run = await CrashRun.CreateAsync(fx, FastBatch);
        var world = await ArrangeAsync(run, documentsAtT: 0);
        var (id, members) = await run.StartBatchAsync([world.Acme, world.Globex], parallelism: 2);
        var waiting = await run.WaitBatchAsync(id, s => Counts(s, "awaitingApproval") == 2, "both members awaiting approval");
        await AssertAwaitingAsync(run, id, world, members, waiting);
        await run.KillHostAsync();

        // The killed host's holds and copies stay as they were: the batch and both members hold the one restored server.
        Assert.Equal(AllHolders(id, members), await HoldersAsync(run));
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server"));

        await run.StartHostAsync();
        waiting = await run.WaitBatchAsync(id, s => Counts(s, "awaitingApproval") == 2, "both members awaiting approval after the restart");
        await AssertAwaitingAsync(run, id, world, members, waiting);
        Assert.Equal(2, await run.ApproveBatchAsync(id));
        var done = await run.WaitBatchAsync(id, CrashRun.Terminal, "the end of the batch");
        await AssertBatchRestoredAsync(run, id, world, members, done);
    }

    [Fact]
    public async Task SigKill_RightAfterTheBatchWasAccepted_RestartedHostStartsEachMemberOnceUnderItsOwnId()
    {
        await using var run = await CrashRun.CreateAsync(fx, FastBatch);
        var world = await ArrangeAsync(run, documentsAtT: 0);

        // The lock acquires and releases of the restored server take: held by a test session, the batch's own hold — taken
        // before any member starts — waits on it, so the host is killed with the batch accepted and no member started.
        var server = ServerNames.Pitr(run.Live.Name, run.Stamp);
        await using var blocker = await run.OpenMasterAsync();
        await ExecAsync(blocker, "SELECT pg_advisory_lock($1)", ServerLockKey(server));
        var (id, members) = await run.StartBatchAsync([world.Acme, world.Globex], parallelism: 2);
        var session = 0;
        await CrashRun.UntilAsync(
            async () => (session = await run.LiveScalarAsync<int>(
                "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = $1 AND $2 = ANY (pg_blocking_pids(pid))", run.Master, blocker.ProcessID)) != 0,
            "the batch's hold waiting on the restored server's lock");
        var accepted = await run.BatchStatusAsync(id);
        Assert.True(Counts(accepted, "waiting") == 2, $"a member started before the batch held its server: {accepted}");
        Assert.Equal("acquiring", accepted.GetProperty("customStatus").GetProperty("servers").EnumerateArray().Single().GetProperty("state").GetString());
        Assert.Empty(await run.RunsOfAsync(world.Acme));
        Assert.Empty(await run.RunsOfAsync(world.Globex));
        await run.KillHostAsync();
        await ExecAsync(blocker, "SELECT pg_advisory_unlock($1)", ServerLockKey(server));
        await run.SessionEndedAsync(session);

        await run.StartHostAsync();
        var waiting = await run.WaitBatchAsync(id, s => Counts(s, "awaitingApproval") == 2, "both members awaiting approval after the restart");

        // Each tenant has one run, under the id the batch announced when it was accepted.
        Assert.Equal([members[world.Acme.Slug]], await run.RunsOfAsync(world.Acme));
        Assert.Equal([members[world.Globex.Slug]], await run.RunsOfAsync(world.Globex));
        await AssertAwaitingAsync(run, id, world, members, waiting);
        Assert.Equal(2, await run.ApproveBatchAsync(id));
        var done = await run.WaitBatchAsync(id, CrashRun.Terminal, "the end of the batch");
        await AssertBatchRestoredAsync(run, id, world, members, done);
        Assert.Equal([members[world.Acme.Slug]], await run.RunsOfAsync(world.Acme));
        Assert.Equal([members[world.Globex.Slug]], await run.RunsOfAsync(world.Globex));
    }

    [Fact]
    public async Task SigKill_InsideTheBatchDecision_RestartedHostTakesTheDecisionAgainAndRestoresBoth()
    {
        await using var run = await CrashRun.CreateAsync(fx, FastBatch);
        var world = await ArrangeAsync(run, documentsAtT: 0);
        var (id, members) = await run.StartBatchAsync([world.Acme, world.Globex], parallelism: 2);
        var waiting = await run.WaitBatchAsync(id, s => Counts(s, "awaitingApproval") == 2, "both members awaiting approval");
        await AssertAwaitingAsync(run, id, world, members, waiting);
        string first = members[world.Acme.Slug], second = members[world.Globex.Slug];

        // The batch's decision reaches its members one after the other (in the batch's order). A test session's lock on the
        // second member's engine row makes the raise of its decision wait: the host dies after the first member got its
        // decision and the second's was recorded, before it reached that run.
        await using var state = await run.OpenStateAsync();
        await using var hold = await state.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM rcm_engine.instances WHERE instance_id = $1 FOR UPDATE", state, hold))
        {
            lockRow.Parameters.Add(new NpgsqlParameter { Value = second });
            Assert.Equal(1, await lockRow.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        }

        var deciding = run.ApproveBatchAsync(id);
        var session = 0;
        await CrashRun.UntilAsync(
            async () => deciding.IsCompleted
                ? throw new InvalidOperationException($"the batch decision did not wait on the second member's row: {await deciding}")
                : (session = await run.LiveScalarAsync<int>(
                    "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = $1 AND $2 = ANY (pg_blocking_pids(pid))", run.State, state.ProcessID)) != 0,
            "the decision of the second member waiting on its engine row");
        Assert.Equal("bob", await run.MasterScalarAsync<string>("SELECT principal_name FROM rcm_pitr.decision_attempts WHERE run_id = $1 AND accepted", first));
        Assert.Equal("bob", await run.MasterScalarAsync<string>("SELECT principal_name FROM rcm_pitr.decision_attempts WHERE run_id = $1 AND accepted", second));
        await run.KillHostAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => deciding);
        await hold.RollbackAsync(TestContext.Current.CancellationToken);
        await run.SessionEndedAsync(session);

        // The first member goes on to its cutover; the second still awaits the decision that never reached it.
        await run.StartHostAsync();
        var half = await run.WaitBatchAsync(
            id,
            s => MemberState(s, world.Acme) == "succeeded" && MemberState(s, world.Globex) == "awaiting approval",
            "the first member restored and the second awaiting its decision");
        Assert.True(CrashRun.AwaitingApproval(await run.StatusAsync(second)), half.ToString());

        // The batch is decided again: the first decision still wins — the answer says so — and the second member gets the
        // decision recorded for it; the batch ends restored.
        using (var again = await run.Bob.PostAsJsonAsync($"/api/restore-batches/{id}/approve", new { comment = "again" }, TestContext.Current.CancellationToken))
        {
            // The member's own route answers 409 (the first decision still wins) and says it raised that decision again; the batch
            // counts it as the member's decision, so the batch's answer is 202 with one member decided.
            var body = await again.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(again.StatusCode == HttpStatusCode.Accepted, $"batch approve answered {(int)again.StatusCode}: {body}\n{run.HostLogTail()}");
            var root = JsonDocument.Parse(body).RootElement;
            Assert.Equal(1, root.GetProperty("accepted").GetInt32());
            var answer = root.GetProperty("members").EnumerateArray().Single();
            Assert.Equal((second, 409, "approved"), (answer.GetProperty("runId").GetString(), answer.GetProperty("status").GetInt32(), answer.GetProperty("decision").GetString()));
            Assert.Contains("the run had not taken that decision yet, so it was raised again", answer.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var done = await run.WaitBatchAsync(id, CrashRun.Terminal, "the end of the batch");
        await AssertBatchRestoredAsync(run, id, world, members, done);
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.decision_attempts WHERE run_id = $1 AND accepted", second));
    }

    /// <summary>Starts the host while it creates the batch's two tenants and a sibling left out of the batch, and takes their fingerprints.</summary>
    private static async Task<World> ArrangeAsync(CrashRun run, int documentsAtT)
    {
        var starting = run.StartHostAsync();
        try
        {
            var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 30, documentsAtT);
            var globex = await run.AddTenantAsync("globex-health", liveMembers: 7, membersAtT: 3, documentsAtT);
            var sibling = await run.AddTenantAsync("initech", liveMembers: 6, membersAtT: 2);
            var world = new World(
                acme,
                globex,
                sibling,
                new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [acme.Slug] = await run.FingerprintAsync(run.Pitr, acme.Database),
                    [globex.Slug] = await run.FingerprintAsync(run.Pitr, globex.Database),
                },
                new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [acme.Slug] = await run.FingerprintAsync(run.Live, acme.Database),
                    [globex.Slug] = await run.FingerprintAsync(run.Live, globex.Database),
                },
                await run.FingerprintAsync(run.Live, sibling.Database));
            Assert.All(world.Members, t => Assert.NotEqual(world.AtT[t.Slug], world.LiveBefore[t.Slug]));
            return world;
        }
        finally
        {
            await starting;
        }
    }

    /// <summary>
    /// Waits until a member's transfer is in its data phase with rows arriving in its copy; returns the members seen doing
    /// so. Fails if every member gets past the data phase first (the test data would be too small to crash in it).
    /// </summary>
    private static async Task<IReadOnlyList<CrashRun.Tenant>> UntilAMemberCopiesAsync(CrashRun run, World world, IReadOnlyDictionary<string, string> members)
    {
        var seen = new List<string>();
        var copying = new List<CrashRun.Tenant>();
        await CrashRun.UntilAsync(
            async () =>
            {
                copying.Clear();
                var past = 0;
                foreach (var tenant in world.Members)
                {
                    var runId = members[tenant.Slug];
                    var progress = await run.TransferProgressAsync(runId);
                    var moving = progress is not null && await run.CopyingIntoAsync(tenant.Names.Restore(run.Stamp, runId));
                    seen.Add($"{tenant.Slug}: " + (progress is { } s ? $"{s.Phase} {s.Bytes} B{(moving ? " copying" : string.Empty)}" : "-"));
                    if (progress is { Phase: var p } && p is not ("data" or "starting" or "schema" or "dump"))
                    {
                        past++;
                    }

                    if (progress?.Phase == "data" && moving)
                    {
                        copying.Add(tenant);
                    }
                }

                if (copying.Count == 0 && past == world.Members.Count)
                {
                    Assert.Fail($"every member's transfer got past its data phase before the test could kill it (make the test data larger); seen: {string.Join(", ", seen.Distinct())}");
                }

                return copying.Count > 0;
            },
            "a member's transfer moving rows in its data phase");
        return copying.ToList();
    }

    /// <summary>While both members await approval: the batch shows them so, holds its server, and each member has one fresh copy.</summary>
    private static async Task AssertAwaitingAsync(CrashRun run, string id, World world, IReadOnlyDictionary<string, string> members, JsonElement waiting)
    {
        var custom = waiting.GetProperty("customStatus");
        Assert.True(custom.GetProperty("servers").EnumerateArray().Single().GetProperty("state").GetString() == "held", waiting.ToString());
        Assert.Equal(AllHolders(id, members), await HoldersAsync(run));
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server"));
        foreach (var tenant in world.Members)
        {
            var runId = members[tenant.Slug];
            var line = custom.GetProperty("members").EnumerateArray().Single(m => m.GetProperty("tenant").GetString() == tenant.Slug);
            Assert.Equal((runId, "awaiting approval"), (line.GetProperty("runId").GetString(), line.GetProperty("state").GetString()));
            var own = await run.StatusAsync(runId);
            Assert.True(CrashRun.AwaitingApproval(own), own.ToString());
            var copy = tenant.Names.Restore(run.Stamp, runId);
            Assert.Equal([tenant.Database, copy], await run.DatabasesOfAsync(tenant));
            Assert.Equal([copy], await run.DatabasesOfRunAsync(runId, tenant));
            Assert.StartsWith($"rcm-pitr:loaded run={runId} ", await run.CommentAsync(copy), StringComparison.Ordinal);
            Assert.Equal(world.AtT[tenant.Slug], await run.FingerprintAsync(run.Live, copy));
        }
    }

    /// <summary>The end every batch crash must converge to.</summary>
    private static async Task AssertBatchRestoredAsync(CrashRun run, string id, World world, IReadOnlyDictionary<string, string> members, JsonElement done)
    {
        var context = $"{done}\n{run.HostLogTail()}";
        Assert.True(done.GetProperty("runtimeStatus").GetString() == "Completed", context);
        var output = done.GetProperty("output");
        Assert.True(output.GetProperty("outcome").GetString() == "Succeeded", context);
        Assert.Equal(
            members.Select(m => (m.Key, m.Value, "succeeded")).OrderBy(m => m.Key, StringComparer.Ordinal),
            output.GetProperty("members").EnumerateArray()
                .Select(m => (m.GetProperty("tenant").GetString()!, m.GetProperty("runId").GetString()!, m.GetProperty("state").GetString()!))
                .OrderBy(m => m.Item1, StringComparer.Ordinal));
        Assert.Equal(2, output.GetProperty("counts").GetProperty("succeeded").GetInt32());

        foreach (var tenant in world.Members)
        {
            var runId = members[tenant.Slug];
            var kept = tenant.Names.PrePitr(run.Stamp, runId);
            var member = await run.StatusAsync(runId);
            Assert.True(member.GetProperty("runtimeStatus").GetString() == "Completed" && member.GetProperty("output").GetProperty("outcome").GetString() == "Restored", member.ToString());
            Assert.All(member.GetProperty("customStatus").GetProperty("steps").EnumerateArray(), s => Assert.Equal("succeeded", s.GetProperty("outcome").GetString()));

            // The state at T is live, the previous database kept and marked by the member's run; nothing else of it is left.
            Assert.Equal(world.AtT[tenant.Slug], await run.FingerprintAsync(run.Live, tenant.Database));
            Assert.Equal(world.LiveBefore[tenant.Slug], await run.FingerprintAsync(run.Live, kept));
            Assert.Equal([tenant.Database, kept], await run.DatabasesOfAsync(tenant));
            Assert.Equal([tenant.Database, kept], await run.DatabasesOfRunAsync(runId, tenant));
            Assert.Equal($"rcm-pitr:kept run={runId} stamp={run.Stamp}", await run.CommentAsync(kept));
            Assert.True(await run.AllowsConnectionsAsync(tenant.Database), $"{tenant.Database} refuses connections");

            // Frozen once, unfrozen once, restored once — by its member run, approved by bob; the tenant active again.
            Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", tenant.Id));
            Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE idempotency_key = $1", $"{runId}:freeze"));
            Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE idempotency_key = $1", $"{runId}:unfreeze"));
            Assert.Equal(2L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_STATUS_CHANGED'", tenant.Id));
            Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", tenant.Id));
            Assert.Equal(runId, await run.MasterScalarAsync<string>("SELECT details->>'runId' FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", tenant.Id));
            Assert.Equal("bob", await run.MasterScalarAsync<string>("SELECT details->>'approvedBy' FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", tenant.Id));
            Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_FAILED'", tenant.Id));
            Assert.Equal([runId], await run.RunsOfAsync(tenant));
            Assert.False(Directory.Exists(Path.Combine(run.Scratch, runId)), $"the scratch folder of {runId} was left");
        }

        // The sibling: same rows, never frozen, no derived database.
        Assert.Equal(world.SiblingBefore, await run.FingerprintAsync(run.Live, world.Sibling.Database));
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", world.Sibling.Id));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", world.Sibling.Id));
        Assert.Equal([world.Sibling.Database], await run.DatabasesOfAsync(world.Sibling));
        Assert.Empty(await run.RunsOfAsync(world.Sibling));

        // Every holder let go and the last deleted the server: no hold and no server row is left.
        Assert.True(await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server_holder") == 0, $"holds left: {string.Join(", ", await HoldersAsync(run))}\n{context}");
        Assert.True(await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server") == 0, $"a restored server row was left\n{context}");

        // Nothing left on disk or running, and no secret shown anywhere.
        Assert.Empty(run.PasswordFilesLeft());
        await CrashRun.UntilAsync(() => Task.FromResult(run.OrphansStillRunning().Count == 0), "the end of every program the killed host started", TimeSpan.FromSeconds(60));
        Assert.Empty(await run.SecretsShownAsync());
    }

    /// <summary>The batch and its members, sorted: every holder of the restored server while both members are going.</summary>
    private static IReadOnlyList<string> AllHolders(string id, IReadOnlyDictionary<string, string> members) =>
        members.Values.Append(id).Order(StringComparer.Ordinal).ToList();

    private static string? MemberState(JsonElement status, CrashRun.Tenant tenant) =>
        status.GetProperty("customStatus").GetProperty("members").EnumerateArray().Single(m => m.GetProperty("tenant").GetString() == tenant.Slug).GetProperty("state").GetString();

    private static int Counts(JsonElement status, string name) => status.GetProperty("customStatus").GetProperty("counts").GetProperty(name).GetInt32();

    private static async Task<IReadOnlyList<string>> HoldersAsync(CrashRun run) =>
        (await run.MasterScalarAsync<string[]>("SELECT coalesce(array_agg(run_id ORDER BY run_id COLLATE \"C\"), '{}') FROM rcm_pitr.restored_server_holder")).ToList();

    /// <summary>The key of the advisory lock acquires and releases of <paramref name="server"/> take, as <c>RestoredServerLock.KeyOf</c> derives it.</summary>
    private static long ServerLockKey(string server) =>
        BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes("rcm-pitr restored server " + server)));

    private static async Task ExecAsync(NpgsqlConnection connection, string sql, long key)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private sealed record World(
        CrashRun.Tenant Acme,
        CrashRun.Tenant Globex,
        CrashRun.Tenant Sibling,
        IReadOnlyDictionary<string, string> AtT,
        IReadOnlyDictionary<string, string> LiveBefore,
        string SiblingBefore)
    {
        public IReadOnlyList<CrashRun.Tenant> Members => [Acme, Globex];
    }
}
