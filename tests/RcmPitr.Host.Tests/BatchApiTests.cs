using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RcmPitr.Host.Tests;

/// <summary>
/// Batches on the embedded host over real clusters: members share one restored server (held by the batch and by each member),
/// one decision restores every member, a member stopped on its own leaves the others as they were, the server's hold rows go
/// when the last holder lets go, and bad input refuses the whole batch before anything starts.
/// </summary>
public sealed class BatchApiTests(HostClusterFixture fx)
{
    private static readonly Dictionary<string, string?> FastBatches = new() { ["RcmPitr:Batch:PollInterval"] = "00:00:00.300" };

    [Fact]
    public async Task Batch_TwoTenantsToOneTime_ShareOneRestoredServerAndOneDecisionRestoresBoth()
    {
        await using var run = await HostRun.StartAsync(fx, settings: FastBatches);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 10);
        var globex = await run.AddTenantAsync("globex-health", liveMembers: 7, membersAtT: 3);
        var sibling = await run.AddTenantAsync("initech", liveMembers: 6, membersAtT: 2);
        var acmeAtT = await run.FingerprintAsync(onLive: false, acme.Database);
        var globexAtT = await run.FingerprintAsync(onLive: false, globex.Database);
        var siblingBefore = await run.FingerprintAsync(onLive: true, sibling.Database);

        using var start = await StartBatchAsync(run, run.Alice, new { tenants = new[] { acme.Slug, globex.Slug } });
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var accepted = await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var id = accepted.GetProperty("id").GetString()!;
        Assert.StartsWith("batch-", id, StringComparison.Ordinal);
        Assert.Equal(accepted.GetProperty("statusQueryGetUri").GetString(), start.Headers.Location!.ToString());
        var members = accepted.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("tenant").GetString()!, m => m.GetProperty("runId").GetString()!);
        Assert.Equal([acme.Slug, globex.Slug], members.Keys.Order(StringComparer.Ordinal));

        // A member counts as awaiting approval from the moment it takes decisions, which is before it has notified the
        // approvers (its step then is "notify approvers"): wait for both to reach their gate.
        var waiting = await WaitBatchAsync(run, id, s => Counts(s, "awaitingApproval") == 2 &&
            s.GetProperty("customStatus").GetProperty("members").EnumerateArray().All(m => m.GetProperty("step").GetString() == "await approval"));
        // One restored server for the source, held by the batch and by both members.
        var server = waiting.GetProperty("customStatus").GetProperty("servers").EnumerateArray().Single();
        Assert.Equal("held", server.GetProperty("state").GetString());
        var serverName = server.GetProperty("restoredServer").GetString()!;
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server"));
        Assert.Equal(
            new[] { id, members[acme.Slug], members[globex.Slug] }.Order(StringComparer.Ordinal),
            (await HoldersAsync(run, serverName)).Order(StringComparer.Ordinal));
        // Each member's line carries its own run's parity verdict and step.
        foreach (var member in waiting.GetProperty("customStatus").GetProperty("members").EnumerateArray())
        {
            var own = (await run.StatusAsync(member.GetProperty("runId").GetString()!)).GetProperty("customStatus");
            Assert.Equal(own.GetProperty("parity").GetProperty("verdict").GetString(), member.GetProperty("parity").GetString());
            Assert.Equal("await approval", member.GetProperty("step").GetString());
        }

        // Four eyes hold for the batch's decision as for each run's.
        using (var self = await run.Alice.PostAsJsonAsync($"/api/restore-batches/{id}/approve", new { comment = "mine" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, self.StatusCode);
        }

        using (var approval = await run.Bob.PostAsJsonAsync($"/api/restore-batches/{id}/approve", new { comment = "counts as expected" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approval.StatusCode);
            var decided = await approval.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            Assert.Equal(2, decided.GetProperty("accepted").GetInt32());
        }

        var done = await WaitBatchAsync(run, id, s => s.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed");
        var output = done.GetProperty("output");
        Assert.Equal("Succeeded", output.GetProperty("outcome").GetString());
        Assert.All(output.GetProperty("members").EnumerateArray(), m => Assert.Equal("succeeded", m.GetProperty("state").GetString()));
        Assert.Equal(acmeAtT, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal(globexAtT, await run.FingerprintAsync(onLive: true, globex.Database));
        Assert.Equal(siblingBefore, await run.FingerprintAsync(onLive: true, sibling.Database));
        // Each member is audited as its own run, approved by bob.
        foreach (var (tenant, runId) in new[] { (acme, members[acme.Slug]), (globex, members[globex.Slug]) })
        {
            Assert.Equal(runId, await run.MasterScalarAsync<string>("SELECT details->>'runId' FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", tenant.Id));
            Assert.Equal("bob", await run.MasterScalarAsync<string>("SELECT details->>'approvedBy' FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", tenant.Id));
        }

        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", sibling.Id));
        // The last holder let go: no hold and no server row is left.
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server_holder"));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server"));

        using var list = await run.Alice.GetAsync("/api/restore-batches", TestContext.Current.CancellationToken);
        var listed = (await list.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).EnumerateArray().Single();
        Assert.Equal((id, "Succeeded"), (listed.GetProperty("instanceId").GetString(), listed.GetProperty("outcome").GetString()));
        // Batches are not restores: the runs list shows the members only.
        using var runs = await run.Alice.GetAsync("/api/restores", TestContext.Current.CancellationToken);
        Assert.Equal(
            members.Values.Order(StringComparer.Ordinal),
            (await runs.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).EnumerateArray().Select(r => r.GetProperty("instanceId").GetString()!).Order(StringComparer.Ordinal));
        using var asRun = await run.Alice.GetAsync($"/api/restores/{id}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, asRun.StatusCode);
    }

    [Fact]
    public async Task Batch_OneMemberCancelled_TheOtherIsUntouchedAndTheServerGoesAfterBoth()
    {
        await using var run = await HostRun.StartAsync(fx, settings: FastBatches);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 10);
        var globex = await run.AddTenantAsync("globex-health", liveMembers: 7, membersAtT: 3);
        var acmeBefore = await run.FingerprintAsync(onLive: true, acme.Database);
        var globexAtT = await run.FingerprintAsync(onLive: false, globex.Database);

        using var start = await StartBatchAsync(run, run.Alice, new { tenants = new[] { acme.Slug, globex.Slug } });
        var accepted = await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var id = accepted.GetProperty("id").GetString()!;
        var members = accepted.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("tenant").GetString()!, m => m.GetProperty("runId").GetString()!);
        var waiting = await WaitBatchAsync(run, id, s => Counts(s, "awaitingApproval") == 2);
        var serverName = waiting.GetProperty("customStatus").GetProperty("servers")[0].GetProperty("restoredServer").GetString()!;
        var globexCopy = run.Derived(globex.Database, "restore", members[globex.Slug]);
        var globexCopyBefore = await run.FingerprintAsync(onLive: true, globexCopy);

        using (var cancel = await run.Alice.PostAsJsonAsync($"/api/restores/{members[acme.Slug]}/cancel", new { reason = "acme is fine after all" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        var stopped = await run.WaitAsync(members[acme.Slug], HostRun.Terminal);
        Assert.Equal("Cancelled", stopped.GetProperty("output").GetProperty("outcome").GetString());
        // The other member is where it was: still awaiting its decision, its copy unchanged, its hold and the batch's kept.
        Assert.True(HostRun.AwaitingApproval(await run.StatusAsync(members[globex.Slug])));
        Assert.Equal(globexCopyBefore, await run.FingerprintAsync(onLive: true, globexCopy));
        Assert.Equal(new[] { id, members[globex.Slug] }.Order(StringComparer.Ordinal), (await HoldersAsync(run, serverName)).Order(StringComparer.Ordinal));
        Assert.Equal(acmeBefore, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));

        await WaitBatchAsync(run, id, s => Member(s, acme.Slug).GetProperty("state").GetString() == "stopped");
        using (var approval = await run.Bob.PostAsJsonAsync($"/api/restore-batches/{id}/approve", new { }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approval.StatusCode);
            Assert.Equal(1, (await approval.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("accepted").GetInt32());
        }

        var done = await WaitBatchAsync(run, id, s => s.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed");
        Assert.Equal("PartlySucceeded", done.GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal("stopped", Member(done, acme.Slug, "output").GetProperty("state").GetString());
        Assert.Equal("succeeded", Member(done, globex.Slug, "output").GetProperty("state").GetString());
        Assert.Equal(globexAtT, await run.FingerprintAsync(onLive: true, globex.Database));
        Assert.Equal(acmeBefore, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server_holder"));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server"));
    }

    [Fact]
    public async Task Batch_ParallelismOne_StartsTheNextMemberOnlyOnceTheFirstHasItsCopy()
    {
        await using var run = await HostRun.StartAsync(fx, settings: FastBatches);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 10);
        var globex = await run.AddTenantAsync("globex-health", liveMembers: 7, membersAtT: 3);

        using var start = await StartBatchAsync(run, run.Alice, new { tenants = new[] { acme.Slug, globex.Slug }, mode = "dry-run", parallelism = 1 });
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var accepted = await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var id = accepted.GetProperty("id").GetString()!;
        var members = accepted.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("runId").GetString()!).ToList();

        var done = await WaitBatchAsync(run, id, s => s.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed");
        Assert.Equal("Succeeded", done.GetProperty("output").GetProperty("outcome").GetString());
        var first = await run.StatusAsync(members[0]);
        var second = await run.StatusAsync(members[1]);
        var firstMoved = first.GetProperty("customStatus").GetProperty("steps").EnumerateArray()
            .Single(s => s.GetProperty("name").GetString() == "move tenant database").GetProperty("endedAt").GetDateTime();
        Assert.True(second.GetProperty("createdTime").GetDateTime() >= firstMoved, $"the second member started at {second.GetProperty("createdTime")}, before the first had its copy at {firstMoved:O}");
        Assert.Equal("DryRunCompleted", second.GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server"));
    }

    [Fact]
    public async Task Batch_BadInputAndUnavailableTenants_RefuseTheWholeBatchAndStartNothing()
    {
        await using var run = await HostRun.StartAsync(fx, settings: FastBatches);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 10);
        var globex = await run.AddTenantAsync("globex-health", liveMembers: 7, membersAtT: 3);

        async Task<(HttpStatusCode Status, JsonElement Body)> Post(object fields, HttpClient? client = null)
        {
            using var response = await StartBatchAsync(run, client ?? run.Alice, fields);
            return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken));
        }

        var duplicate = await Post(new { tenants = new[] { acme.Slug, globex.Slug, acme.Slug } });
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.Status);
        Assert.Contains("listed more than once", duplicate.Body.GetProperty("errors").GetProperty("tenants")[0].GetString(), StringComparison.Ordinal);

        var both = await Post(new { tenants = new[] { acme.Slug }, server = "live" });
        Assert.Equal(HttpStatusCode.BadRequest, both.Status);
        Assert.True(both.Body.GetProperty("errors").TryGetProperty("tenants", out _));

        var parallelism = await Post(new { tenants = new[] { acme.Slug }, parallelism = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, parallelism.Status);
        Assert.True(parallelism.Body.GetProperty("errors").TryGetProperty("parallelism", out _));

        var unknownServer = await Post(new { server = "no-such-server" });
        Assert.Equal(HttpStatusCode.NotFound, unknownServer.Status);

        var unknown = await Post(new { tenants = new[] { acme.Slug, "no-such-tenant" } });
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        var refused = unknown.Body.GetProperty("tenants").EnumerateArray().Single();
        Assert.Equal(("no-such-tenant", 404), (refused.GetProperty("tenant").GetString(), refused.GetProperty("status").GetInt32()));

        // A tenant another run holds refuses the batch, naming that run; nothing of the batch starts.
        using var single = await run.StartRestoreAsync(run.Alice, acme.Slug);
        var holder = (await single.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
        var busy = await Post(new { tenants = new[] { globex.Slug, acme.Slug } });
        Assert.Equal(HttpStatusCode.Conflict, busy.Status);
        var busyTenant = busy.Body.GetProperty("tenants").EnumerateArray().Single();
        Assert.Equal(acme.Slug, busyTenant.GetProperty("tenant").GetString());
        Assert.Contains(holder, busyTenant.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var noRole = await Post(new { tenants = new[] { globex.Slug } }, run.Carol);
        Assert.Equal(HttpStatusCode.Forbidden, noRole.Status);

        using var batches = await run.Alice.GetAsync("/api/restore-batches", TestContext.Current.CancellationToken);
        Assert.Empty((await batches.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).EnumerateArray());
        using var globexRuns = await run.Alice.GetAsync($"/api/restores?tenant={globex.Slug}", TestContext.Current.CancellationToken);
        Assert.Empty((await globexRuns.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).EnumerateArray());
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", globex.Id));

        using var unknownBatch = await run.Alice.GetAsync("/api/restore-batches/batch-nope", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, unknownBatch.StatusCode);
        using (var cancel = await run.Alice.PostAsJsonAsync($"/api/restores/{holder}/cancel", new { }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        await run.WaitAsync(holder, HostRun.Terminal);
    }

    internal static Task<HttpResponseMessage> StartBatchAsync(HostRun run, HttpClient client, object fields)
    {
        var body = JsonSerializer.SerializeToNode(fields)!.AsObject();
        body["restoreTime"] ??= run.RestoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        body["reason"] ??= "bad migration deployed to several tenants";
        return client.PostAsJsonAsync("/api/restore-batches", body);
    }

    internal static async Task<JsonElement> WaitBatchAsync(HostRun run, string id, Func<JsonElement, bool> until)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        while (true)
        {
            using var response = await run.Alice.GetAsync($"/api/restore-batches/{id}", timeout.Token);
            var status = await response.Content.ReadFromJsonAsync<JsonElement>(timeout.Token);
            if (status.TryGetProperty("customStatus", out var custom) && custom.ValueKind == JsonValueKind.Object && until(status))
            {
                return status;
            }

            await Task.Delay(200, timeout.Token);
        }
    }

    private static int Counts(JsonElement status, string name) => status.GetProperty("customStatus").GetProperty("counts").GetProperty(name).GetInt32();

    private static JsonElement Member(JsonElement status, string tenant, string from = "customStatus") =>
        status.GetProperty(from).GetProperty("members").EnumerateArray().Single(m => m.GetProperty("tenant").GetString() == tenant);

    private static async Task<IReadOnlyList<string>> HoldersAsync(HostRun run, string server)
    {
        var holders = await run.MasterScalarAsync<string[]>("SELECT coalesce(array_agg(run_id), '{}') FROM rcm_pitr.restored_server_holder WHERE server_name = $1", server);
        return holders;
    }
}
