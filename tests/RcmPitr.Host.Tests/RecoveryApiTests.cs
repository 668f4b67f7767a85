using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RcmPitr.Host.Tests;

/// <summary>
/// <c>/api/server-recoveries</c> on the embedded host over real clusters: bad input, an unknown server, a server that still
/// answers and a busy tenant are refused before anything starts; a forced recovery on a host whose provisioner cannot
/// geo-restore ends failed with nothing frozen.
/// </summary>
public sealed class RecoveryApiTests(HostClusterFixture fx)
{
    [Fact]
    public async Task Start_BadInputUnknownServerOrServerThatAnswers_IsRefusedBeforeAnythingStarts()
    {
        await using var run = await HostRun.StartAsync(fx);
        var tenant = await run.AddTenantAsync("acme", liveMembers: 3, membersAtT: 2);
        var ct = TestContext.Current.CancellationToken;

        using (var invalid = await run.Alice.PostAsJsonAsync("/api/server-recoveries", new { server = "Not_A_Server", reason = "" }, ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("errors");
            Assert.True(errors.TryGetProperty("server", out _) && errors.TryGetProperty("reason", out _), errors.ToString());
        }

        using (var unknown = await run.Alice.PostAsJsonAsync("/api/server-recoveries", new { server = "pg-nowhere", reason = "region lost" }, ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        using (var answers = await run.Alice.PostAsJsonAsync("/api/server-recoveries", new { server = fx.LiveServer.Name, reason = "region lost" }, ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, answers.StatusCode);
            Assert.Equal("Server answers", (await answers.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("title").GetString());
        }

        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", tenant.Id));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit"));
    }

    [Fact]
    public async Task Start_TenantWithAnActiveRun_IsRefusedEvenWhenForced()
    {
        await using var run = await HostRun.StartAsync(fx);
        var tenant = await run.AddTenantAsync("acme", liveMembers: 3, membersAtT: 2);
        var ct = TestContext.Current.CancellationToken;
        // A restore at its approval gate holds the tenant for as long as the test needs (a dry run could end first).
        using var restore = await run.StartRestoreAsync(run.Alice, tenant.Slug);
        Assert.Equal(HttpStatusCode.Accepted, restore.StatusCode);
        var runId = (await restore.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString();
        await run.WaitAsync(runId!, HostRun.AwaitingApproval);

        using var busy = await run.Alice.PostAsJsonAsync("/api/server-recoveries", new { server = fx.LiveServer.Name, reason = "region lost", force = true }, ct);

        Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
        var problem = await busy.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal("Tenants busy", problem.GetProperty("title").GetString());
        Assert.Equal(runId, problem.GetProperty("tenants")[0].GetProperty("runId").GetString());
        using (var cancel = await run.Alice.PostAsJsonAsync($"/api/restores/{runId}/cancel", new { }, ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        await run.WaitAsync(runId!, HostRun.Terminal);
    }

    [Fact]
    public async Task Start_ForcedOnAProvisionerThatCannotGeoRestore_FailsWithNothingFrozen()
    {
        await using var run = await HostRun.StartAsync(fx);
        var tenant = await run.AddTenantAsync("acme", liveMembers: 3, membersAtT: 2);
        var ct = TestContext.Current.CancellationToken;

        using var start = await run.Alice.PostAsJsonAsync("/api/server-recoveries", new { server = fx.LiveServer.Name, reason = "evacuate the region", force = true }, ct);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetString()!;
        Assert.StartsWith($"recovery-{fx.LiveServer.Name}-", id, StringComparison.Ordinal);

        var done = await WaitAsync(run, id, ct);
        var output = done.GetProperty("output");
        Assert.Equal("Failed", output.GetProperty("outcome").GetString());
        Assert.Contains("cannot geo-restore", output.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", tenant.Id));
        Assert.Equal(fx.LiveServer.Name, await run.MasterScalarAsync<string>("SELECT db_server FROM identity.tenant WHERE id = $1", tenant.Id));
        using var decide = await run.Bob.PostAsJsonAsync($"/api/server-recoveries/{id}/approve", new { comment = "too late" }, ct);
        Assert.Equal(HttpStatusCode.Conflict, decide.StatusCode);
    }

    private static async Task<JsonElement> WaitAsync(HostRun run, string id, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (true)
        {
            using var response = await run.Alice.GetAsync($"/api/server-recoveries/{id}", timeout.Token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return await response.Content.ReadFromJsonAsync<JsonElement>(timeout.Token);
            }

            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            await Task.Delay(200, timeout.Token);
        }
    }
}
