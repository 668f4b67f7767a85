using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RcmPitr.Host.Tests;

/// <summary>Answers the README promises for the HTTP API, each through the real API over real clusters.</summary>
public sealed class ApiContractTests(HostClusterFixture fx)
{
    [Fact]
    public async Task Start_TenantNotActive_Returns409()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 1, membersAtT: 1);
        await run.ExecMasterAsync("UPDATE identity.tenant SET status = 'suspended' WHERE id = $1", acme.Id);

        using var response = await run.StartRestoreAsync(run.Alice, acme.Slug);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("Tenant not active", problem.GetProperty("title").GetString());
        Assert.Equal("suspended", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
    }

    [Fact]
    public async Task GetAndCancel_EndedRun_Return200And409()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 2, membersAtT: 2);
        var id = await StartAsync(run, run.Alice, acme.Slug, mode: "dry-run");
        await run.WaitAsync(id, HostRun.Terminal);

        using var status = await run.Alice.GetAsync($"/api/restores/{id}", TestContext.Current.CancellationToken);
        using var cancel = await run.Alice.PostAsJsonAsync($"/api/restores/{id}/cancel", new { reason = "too late" }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Null(status.Headers.RetryAfter);
        Assert.Equal("Completed", (await status.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("runtimeStatus").GetString());
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
    }

    [Fact]
    public async Task Reject_ByTheRequester_Returns403AndTheRunKeepsWaiting()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 2, membersAtT: 3);
        var id = await StartAsync(run, run.Alice, acme.Slug);
        await run.WaitAsync(id, HostRun.AwaitingApproval);

        using var reject = await run.Alice.PostAsJsonAsync($"/api/restores/{id}/reject", new { comment = "never mind" }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, reject.StatusCode);
        Assert.True(HostRun.AwaitingApproval(await run.StatusAsync(id)));
        await CancelAsync(run, id);
    }

    [Fact]
    public async Task Approve_ByACaseOrWhitespaceVariantOfTheRequester_Returns403()
    {
        const string secondAliceKey = "second-key-of-alice-0123456789abcdef";
        await using var run = await HostRun.StartAsync(fx, legacyKeys: true, settings: new Dictionary<string, string?>
        {
            [$"RcmPitr:ApiKeys:{secondAliceKey}"] = " ALICE ",
        });
        var acme = await run.AddTenantAsync("acme", liveMembers: 2, membersAtT: 3);
        var id = await StartAsync(run, run.Alice, acme.Slug);
        await run.WaitAsync(id, HostRun.AwaitingApproval);

        using var approve = await run.ClientWithKey(secondAliceKey).PostAsJsonAsync($"/api/restores/{id}/approve", new { comment = "lgtm" }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, approve.StatusCode);
        Assert.True(HostRun.AwaitingApproval(await run.StatusAsync(id)));
        await CancelAsync(run, id);
    }

    [Fact]
    public async Task List_ByStatus_FiltersNewestFirstAndRefusesAnUnknownStatus()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 2, membersAtT: 2);
        var globex = await run.AddTenantAsync("globex", liveMembers: 2, membersAtT: 2);
        var older = await StartAsync(run, run.Alice, acme.Slug, mode: "dry-run");
        await run.WaitAsync(older, HostRun.Terminal);
        var newer = await StartAsync(run, run.Alice, globex.Slug);
        await run.WaitAsync(newer, HostRun.AwaitingApproval);

        var all = await ListAsync(run, string.Empty);
        var completed = await ListAsync(run, "?status=completed");
        var running = await ListAsync(run, "?status=Running");
        var runningOfAcme = await ListAsync(run, $"?tenant={acme.Slug}&status=Running");
        using var unknown = await run.Alice.GetAsync("/api/restores?status=Done", TestContext.Current.CancellationToken);

        Assert.Equal([newer, older], all);
        Assert.Equal([older], completed);
        Assert.Equal([newer], running);
        Assert.Empty(runningOfAcme);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(["status"], (await unknown.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("errors").EnumerateObject().Select(p => p.Name));
        await CancelAsync(run, newer);
    }

    [Fact]
    public async Task AnyRoute_WrongKey_Returns401()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 1, membersAtT: 1);
        var wrong = run.ClientWithKey(HostRun.AliceKey[..^1] + "X");

        using var list = await wrong.GetAsync("/api/restores", TestContext.Current.CancellationToken);
        using var start = await run.StartRestoreAsync(wrong, acme.Slug);

        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, start.StatusCode);
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", acme.Id));
    }

    private static async Task<string> StartAsync(HostRun run, HttpClient client, string tenant, string? mode = null)
    {
        using var response = await run.StartRestoreAsync(client, tenant, mode);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<IReadOnlyList<string>> ListAsync(HostRun run, string query)
    {
        using var response = await run.Alice.GetAsync("/api/restores" + query, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(r => r.GetProperty("instanceId").GetString()!).ToList();
    }

    private static async Task CancelAsync(HostRun run, string id)
    {
        using var cancel = await run.Alice.PostAsJsonAsync($"/api/restores/{id}/cancel", new { reason = "test over" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        await run.WaitAsync(id, HostRun.Terminal);
    }
}
