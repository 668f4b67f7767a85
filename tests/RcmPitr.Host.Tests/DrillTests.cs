using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RcmPitr.Cli;

namespace RcmPitr.Host.Tests;

/// <summary>
/// Restore drills on the embedded host over real clusters: the scheduler starts one at its cron occurrence, the drill dry-runs
/// every configured tenant on one shared restored server and records a report per tenant — phases, bytes, parity, canary counts,
/// the reference check (none yet, then the previous drill; a configured expectation that fails), pass or fail with the reason —
/// which the API and the CLI show; a tenant busy with another run is reported as not drilled.
/// </summary>
public sealed class DrillTests(HostClusterFixture fx)
{
    [Fact]
    public async Task ScheduledDrill_RecordsAReportPerTenantThatTheApiAndCliShow()
    {
        var settings = new Dictionary<string, string?>
        {
            ["RcmPitr:DryRunSchedule"] = string.Empty,
            ["RcmPitr:DryRun:RestorePointAge"] = "00:00:30",
            ["RcmPitr:Batch:PollInterval"] = "00:00:00.300",
        };
        await using var run = await HostRun.StartAsync(fx, settings: settings);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 10);
        var globex = await run.AddTenantAsync("globex-health", liveMembers: 7, membersAtT: 3);
        // The host reads its options at start: restart it on the same databases with a schedule whose one occurrence is twelve
        // seconds away (daily at that second; the scheduler never catches up a missed one, so the margin covers a slow
        // start of the host on a busy machine), every tenant of the master (no DryRun:Tenants), and an expectation globex fails.
        await run.StopHostAsync();
        var at = TimeProvider.System.GetUtcNow().AddSeconds(12);
        run.Settings["RcmPitr:DryRunSchedule"] = $"{at.Second} {at.Minute} {at.Hour} * * *";
        run.Settings["RcmPitr:Drills:Expectations:0:Tenant"] = globex.Slug;
        run.Settings["RcmPitr:Drills:Expectations:0:Table"] = "members.member";
        run.Settings["RcmPitr:Drills:Expectations:0:MinRows"] = "1000";
        await run.StartHostAsync();
        Assert.True(TimeProvider.System.GetUtcNow() < at, $"the host took until after the drill's second ({at:HH:mm:ss}) to start; the scheduler waits for tomorrow's");

        var first = await WaitForDrillAsync(run, drills => drills.FirstOrDefault());
        Assert.Equal($"drill-{at.UtcDateTime:yyyyMMddHHmm}", first);
        var report = await run.WaitForDrillReportAsync(first);
        Assert.Equal(("Completed", 1, 1), (report.GetProperty("runtimeStatus").GetString(), report.GetProperty("passed").GetInt32(), report.GetProperty("failed").GetInt32()));
        var tenants = report.GetProperty("tenants").EnumerateArray().ToDictionary(t => t.GetProperty("tenant").GetString()!);
        var acmeResult = tenants[acme.Slug];
        Assert.True(acmeResult.GetProperty("passed").GetBoolean(), acmeResult.ToString());
        Assert.Equal("none", acmeResult.GetProperty("reference").GetProperty("kind").GetString());
        Assert.Contains("this drill's counts become the reference", acmeResult.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.True(acmeResult.GetProperty("bytesMoved").GetInt64() > 0);
        Assert.True(acmeResult.GetProperty("seconds").GetDouble() > 0);
        Assert.Contains(acmeResult.GetProperty("phases").EnumerateArray(), p => p.GetProperty("name").GetString() == "move tenant database" && p.GetProperty("outcome").GetString() == "succeeded");
        Assert.Contains(acmeResult.GetProperty("counts").EnumerateArray(), c => c.GetProperty("table").GetString() == "members.member" && c.GetProperty("rows").GetInt64() == 10);
        var globexResult = tenants[globex.Slug];
        Assert.False(globexResult.GetProperty("passed").GetBoolean());
        Assert.Contains("members.member: 3 rows, expected 1000–any", globexResult.GetProperty("reason").GetString(), StringComparison.Ordinal);
        // Both were dry-run from one restored server held by the drill, which is gone now.
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.restored_server"));
        Assert.Equal(2, report.GetProperty("history").GetArrayLength());

        // A second drill, by hand, with acme busy: acme is reported as not drilled; globex is checked against the first drill.
        using var single = await run.StartRestoreAsync(run.Alice, acme.Slug);
        var holder = (await single.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
        using var started = await run.Bob.PostAsJsonAsync("/api/drills", new { }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var startedBody = await started.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var second = startedBody.GetProperty("id").GetString()!;
        Assert.Equal(acme.Slug, startedBody.GetProperty("skipped")[0].GetProperty("tenant").GetString());
        var secondReport = await run.WaitForDrillReportAsync(second);
        var secondTenants = secondReport.GetProperty("tenants").EnumerateArray().ToDictionary(t => t.GetProperty("tenant").GetString()!);
        Assert.Contains($"not drilled: Tenant already being restored: Tenant '{acme.Slug}' is held by run '{holder}'", secondTenants[acme.Slug].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.False(secondTenants[globex.Slug].GetProperty("passed").GetBoolean());
        using (var cancel = await run.Alice.PostAsJsonAsync($"/api/restores/{holder}/cancel", new { }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        await run.WaitAsync(holder, HostRun.Terminal);

        // A third drill of acme alone: checked against the first (the last passed drill of an earlier time).
        using var third = await run.Bob.PostAsJsonAsync("/api/drills", new { tenants = new[] { acme.Slug } }, TestContext.Current.CancellationToken);
        var thirdId = (await third.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
        var thirdReport = await run.WaitForDrillReportAsync(thirdId);
        var thirdAcme = thirdReport.GetProperty("tenants")[0];
        Assert.True(thirdAcme.GetProperty("passed").GetBoolean(), thirdAcme.ToString());
        Assert.Equal(("previous", first), (thirdAcme.GetProperty("reference").GetProperty("kind").GetString(), thirdAcme.GetProperty("reference").GetProperty("againstDrill").GetString()));

        // The CLI shows the list and the report.
        var output = new StringWriter();
        Assert.Equal(0, await CliApp.RunAsync(["drill", "list"], run.ClientWithKey(HostRun.AliceKey), output, TextWriter.Null));
        Assert.Contains(first, output.ToString(), StringComparison.Ordinal);
        output = new StringWriter();
        Assert.Equal(0, await CliApp.RunAsync(["drill", "show", first], run.ClientWithKey(HostRun.AliceKey), output, TextWriter.Null));
        Assert.Contains($"PASS {acme.Slug}", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"FAIL {globex.Slug}", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("move tenant database", output.ToString(), StringComparison.Ordinal);
        using var anonymous = await run.Anonymous.GetAsync($"/api/drills/{first}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private static async Task<string> WaitForDrillAsync(HostRun run, Func<IReadOnlyList<string>, string?> pick)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            var drills = await run.Alice.GetFromJsonAsync<JsonElement>("/api/drills", timeout.Token);
            if (pick(drills.EnumerateArray().Select(d => d.GetProperty("id").GetString()!).ToList()) is { } id)
            {
                return id;
            }

            await Task.Delay(250, timeout.Token);
        }
    }
}
