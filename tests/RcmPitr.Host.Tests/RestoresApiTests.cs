using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RcmPitr.Host.Tests;

public sealed class RestoresApiTests(HostClusterFixture fx)
{
    [Fact]
    public async Task Restore_ApprovedBySecondPrincipal_SwapsInTheStateAtTAndLeavesTheSiblingAlone()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 10);
        var sibling = await run.AddTenantAsync("globex-health", liveMembers: 6, membersAtT: 2);
        var atT = await run.FingerprintAsync(onLive: false, acme.Database);
        var liveBefore = await run.FingerprintAsync(onLive: true, acme.Database);
        var siblingBefore = await run.FingerprintAsync(onLive: true, sibling.Database);

        using var start = await run.StartRestoreAsync(run.Alice, acme.Slug);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var links = await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var id = links.GetProperty("id").GetString()!;
        Assert.Equal(links.GetProperty("statusQueryGetUri").GetString(), start.Headers.Location!.ToString());

        var waiting = await run.WaitAsync(id, HostRun.AwaitingApproval);
        Assert.Equal("Warn", waiting.GetProperty("customStatus").GetProperty("parity").GetProperty("verdict").GetString());
        // The default transfer streams the tables; its progress reaches the status through the control plane.
        var transfer = waiting.GetProperty("customStatus").GetProperty("transfer");
        Assert.Equal(("streaming", "done"), (transfer.GetProperty("mode").GetString(), transfer.GetProperty("phase").GetString()));
        Assert.True(transfer.GetProperty("tablesTotal").GetInt32() >= 3);
        Assert.Equal(transfer.GetProperty("tablesTotal").GetInt32(), transfer.GetProperty("tablesDone").GetInt32());
        Assert.True(transfer.GetProperty("bytesMoved").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Null, transfer.GetProperty("error").ValueKind);
        using (var polled = await run.Alice.GetAsync($"/api/restores/{id}", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, polled.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(10), polled.Headers.RetryAfter!.Delta);
        }

        using (var selfApproval = await run.Alice.PostAsJsonAsync($"/api/restores/{id}/approve", new { comment = "lgtm" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, selfApproval.StatusCode);
        }

        using (var approval = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/approve", new { comment = "counts as expected" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approval.StatusCode);
        }

        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal("Completed", done.GetProperty("runtimeStatus").GetString());
        Assert.Equal("Restored", done.GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal(atT, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal(liveBefore, await run.FingerprintAsync(onLive: true, run.Derived(acme.Database, "pre_pitr", id)));
        Assert.Equal([acme.Database, run.Derived(acme.Database, "pre_pitr", id)], await run.DatabasesLikeAsync(acme.Database));
        Assert.Equal(siblingBefore, await run.FingerprintAsync(onLive: true, sibling.Database));
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", sibling.Id));
        Assert.Equal("bob", await run.MasterScalarAsync<string>("SELECT details->>'approvedBy' FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", acme.Id));
        Assert.Equal("alice", await run.MasterScalarAsync<string>("SELECT actor FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", acme.Id));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", sibling.Id));
        var steps = done.GetProperty("customStatus").GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("outcome").GetString()).ToList();
        Assert.All(steps, outcome => Assert.Equal("succeeded", outcome));

        using var rollback = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/rollback", new { reason = "customer changed their mind" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, rollback.StatusCode);
        await run.WaitAsync(id + "-rollback", HostRun.AwaitingApproval);
        using (var approval = await run.Alice.PostAsJsonAsync($"/api/restores/{id}-rollback/approve", new { comment = "agreed" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approval.StatusCode);
        }

        var rolledBack = await run.WaitAsync(id + "-rollback", HostRun.Terminal);
        Assert.Equal("RolledBack", rolledBack.GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal(liveBefore, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal(atT, await run.FingerprintAsync(onLive: true, run.Derived(acme.Database, "rollback", id)));
    }

    [Fact]
    public async Task Restore_Rejected_CompensatesAndLeavesTheTenantAsItWas()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        var liveBefore = await run.FingerprintAsync(onLive: true, acme.Database);
        var id = await StartAsync(run, acme.Slug);
        await run.WaitAsync(id, HostRun.AwaitingApproval);

        using (var reject = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/reject", new { comment = "wrong minute" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, reject.StatusCode);
        }

        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal("Rejected", done.GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal(liveBefore, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal([acme.Database], await run.DatabasesLikeAsync(acme.Database));
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_REJECTED'", acme.Id));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_FAILED'", acme.Id));
        using var late = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/approve", new { }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task Restore_CancelledWhileAwaitingApproval_Compensates()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        var id = await StartAsync(run, acme.Slug);
        await run.WaitAsync(id, HostRun.AwaitingApproval);

        using (var cancel = await run.Alice.PostAsJsonAsync($"/api/restores/{id}/cancel", new { reason = "duplicate request" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal("Cancelled", done.GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal([acme.Database], await run.DatabasesLikeAsync(acme.Database));
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
    }

    [Fact]
    public async Task Restore_NoDecisionBeforeTheTimeout_TimesOutAndCompensates()
    {
        await using var run = await HostRun.StartAsync(fx, approvalTimeout: TimeSpan.FromSeconds(2));
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        var id = await StartAsync(run, acme.Slug);

        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal("ApprovalTimedOut", done.GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
    }

    [Fact]
    public async Task Restore_HostRestartedWhileAwaitingApproval_ResumesAndFinishes()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var atT = await run.FingerprintAsync(onLive: false, acme.Database);
        var id = await StartAsync(run, acme.Slug);
        await run.WaitAsync(id, HostRun.AwaitingApproval);

        await run.StopHostAsync();
        await run.StartHostAsync();
        using (var approval = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/approve", new { }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approval.StatusCode);
        }

        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal("Completed", done.GetProperty("runtimeStatus").GetString());
        Assert.Equal(atT, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", acme.Id));
    }

    [Fact]
    public async Task DryRun_RunsWithoutFreezeOrCutoverAndRemovesItsCopy()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        var liveBefore = await run.FingerprintAsync(onLive: true, acme.Database);

        var id = await StartAsync(run, acme.Slug, mode: "dry-run", transfer: "parallel");
        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal("DryRunCompleted", done.GetProperty("output").GetProperty("outcome").GetString());
        var transfer = done.GetProperty("customStatus").GetProperty("transfer");
        Assert.Equal("parallel", transfer.GetProperty("mode").GetString());
        // What the dump achieved stays in the status; a finished transfer has nothing left to estimate.
        Assert.True(transfer.GetProperty("bytesPerSecond").GetInt64() > 0, transfer.GetRawText());
        Assert.True(transfer.GetProperty("mbPerSecond").GetDouble() >= 0);
        Assert.Equal(JsonValueKind.Number, transfer.GetProperty("bytesTotal").ValueKind);
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (transfer.GetProperty("estimatedFinishAt").ValueKind, transfer.GetProperty("secondsRemaining").ValueKind));

        // A copy under way, as the transfer step records it: the status shows its total, throughput and estimated end.
        var finish = TimeProvider.System.GetUtcNow().AddMinutes(10);
        finish = finish.AddTicks(-(finish.Ticks % TimeSpan.TicksPerSecond));
        await run.ExecMasterAsync(
            "UPDATE rcm_pitr.transfer_progress SET phase = 'dump', bytes_moved = $2, bytes_total = $3, bytes_per_second = $4, estimated_finish_at = $5 WHERE run_id = $1",
            id, 412L * 1048576, 1019L * 1048576, 61.3 * 1048576, finish);
        var copying = (await run.StatusAsync(id)).GetProperty("customStatus").GetProperty("transfer");
        Assert.Equal((1019L * 1048576, 64277709L, 61.3), (copying.GetProperty("bytesTotal").GetInt64(), copying.GetProperty("bytesPerSecond").GetInt64(), copying.GetProperty("mbPerSecond").GetDouble()));
        Assert.Equal(finish, copying.GetProperty("estimatedFinishAt").GetDateTimeOffset());
        Assert.InRange(copying.GetProperty("secondsRemaining").GetInt64(), 540, 600);
        Assert.Equal(liveBefore, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal([acme.Database], await run.DatabasesLikeAsync(acme.Database));
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_DRY_RUN'", acme.Id));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_STATUS_CHANGED'", acme.Id));
    }

    [Fact]
    public async Task Snapshot_KeepsAnAsOfCopyBesideTheLiveDatabase()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        var atT = await run.FingerprintAsync(onLive: false, acme.Database);

        var id = await StartAsync(run, acme.Slug, mode: "snapshot", transfer: "runbook");
        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal("SnapshotCreated", done.GetProperty("output").GetProperty("outcome").GetString());
        var steps = done.GetProperty("customStatus").GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        Assert.Contains("dump tenant database", steps);
        Assert.DoesNotContain("move tenant database", steps);
        Assert.Equal(atT, await run.FingerprintAsync(onLive: true, run.Derived(acme.Database, "asof", id)));
    }

    [Fact]
    public async Task Start_BadFields_Returns400NamingEachField()
    {
        await using var run = await HostRun.StartAsync(fx);

        using var response = await run.Alice.PostAsJsonAsync("/api/restores", new
        {
            tenant = "Acme'; DROP DATABASE x",
            restoreTime = TimeProvider.System.GetUtcNow().AddHours(1).ToString("O"),
            mode = "yolo",
            strategy = "swap",
            transfer = "teleport",
            reason = "",
        }, TestContext.Current.CancellationToken);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order().ToList();
        Assert.Equal(["mode", "reason", "restoreTime", "strategy", "tenant", "transfer"], fields);
    }

    [Fact]
    public async Task Start_TimeOutsideRetention_Returns400()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 1, membersAtT: 1);

        using var response = await run.StartRestoreAsync(run.Alice, acme.Slug, time: TimeProvider.System.GetUtcNow().AddDays(-3));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = problem.GetProperty("errors").GetProperty("restoreTime")[0].GetString();
        Assert.Contains("retention", message, StringComparison.Ordinal);
        Assert.Contains("earliestRestoreDate", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnknownTenantUnauthenticatedAndSecondRun_Return404_401_409()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 1, membersAtT: 1);

        using var unknown = await run.StartRestoreAsync(run.Alice, "no-such-tenant");
        using var anonymous = await run.StartRestoreAsync(run.Anonymous, acme.Slug);
        var first = await StartAsync(run, acme.Slug);
        using var second = await run.StartRestoreAsync(run.Bob, acme.Slug);
        var conflict = await second.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        using var missing = await run.Alice.GetAsync("/api/restores/nope", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Contains(first, conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var list = await run.Alice.GetAsync($"/api/restores?tenant={acme.Slug}", TestContext.Current.CancellationToken);
        var runs = await list.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(first, Assert.Single(runs.EnumerateArray()).GetProperty("instanceId").GetString());
    }

    private static async Task<string> StartAsync(HostRun run, string tenant, string? mode = null, string? transfer = null)
    {
        using var response = await run.StartRestoreAsync(run.Alice, tenant, mode, transfer: transfer);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }
}
