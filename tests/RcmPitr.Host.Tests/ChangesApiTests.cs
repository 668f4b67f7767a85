using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RcmPitr.Cli;

namespace RcmPitr.Host.Tests;

/// <summary>
/// The change report through the API and the CLI, on a real restore: the tenant's live database and its state at T differ
/// in known ways (one member deleted after T, every row re-created with another <c>created_at</c>).
/// </summary>
public sealed class ChangesApiTests(HostClusterFixture fx)
{
    [Fact]
    public async Task Changes_BeforeApprovalAndAfterTheCutover_CountsKeysCsvCliAndTheKeptDatabase()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        using var start = await run.StartRestoreAsync(run.Alice, acme.Slug);
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
        var waiting = await run.WaitAsync(id, HostRun.AwaitingApproval);

        // The status carries the summary; the route the whole report.
        var summary = waiting.GetProperty("customStatus").GetProperty("changes");
        Assert.Equal((3, 1L), (summary.GetProperty("tablesChanged").GetInt32(), summary.GetProperty("onlyInCopy").GetInt64()));
        using var response = await run.Bob.GetAsync($"/api/restores/{id}/changes", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(acme.Database, report.GetProperty("liveDatabase").GetString());
        Assert.False(report.GetProperty("partial").GetBoolean());
        Assert.Equal(JsonValueKind.Null, report.GetProperty("keptDatabase").ValueKind);
        Assert.Contains("Only primary key values", report.GetProperty("note").GetString(), StringComparison.Ordinal);
        var members = report.GetProperty("tables").EnumerateArray().Single(t => t.GetProperty("table").GetString() == "members.member");
        Assert.Equal(
            ("primary key", 4L, 5L, 0L, 1L, 4L),
            (members.GetProperty("matchedBy").GetString(), members.GetProperty("liveRows").GetInt64(), members.GetProperty("copyRows").GetInt64(),
                members.GetProperty("onlyInLive").GetInt64(), members.GetProperty("onlyInCopy").GetInt64(), members.GetProperty("different").GetInt64()));
        Assert.Equal(["id"], members.GetProperty("keyColumns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("5", members.GetProperty("samples").GetProperty("onlyInCopy")[0][0].GetString());
        Assert.DoesNotContain("Member 5", report.GetRawText(), StringComparison.Ordinal); // a key, never the row's other values
        var privileges = report.GetProperty("privileges");
        Assert.Equal(0, privileges.GetProperty("differences").GetArrayLength());
        Assert.True(privileges.GetProperty("objectsCompared").GetInt32() >= 6, privileges.GetRawText());

        using var csv = await run.Bob.GetAsync($"/api/restores/{id}/changes.csv", TestContext.Current.CancellationToken);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split("\r\n");
        Assert.Equal("table,category,key_columns,key_1", lines[0]);
        Assert.Contains("members.member,only_in_copy,id,5", lines);

        var cli = new StringWriter();
        Assert.Equal(0, await CliApp.RunAsync(["changes", id], run.Bob, cli, new StringWriter()));
        Assert.Matches(@"members\.member +\(primary key: id; live 4 rows, copy 5\)", cli.ToString());
        Assert.Matches(@"1 deleted after T, come back: \(5\)", cli.ToString());
        Assert.Matches(@"owners and privileges: \d+ objects compared, all as live's", cli.ToString());

        using (var approve = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/approve", new { comment = "report checked" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approve.StatusCode);
        }

        await run.WaitAsync(id, HostRun.Terminal);
        var after = await run.Alice.GetFromJsonAsync<JsonElement>($"/api/restores/{id}/changes", TestContext.Current.CancellationToken);
        Assert.Equal(run.Derived(acme.Database, "pre_pitr", id), after.GetProperty("keptDatabase").GetString());
    }

    [Fact]
    public async Task Changes_UnknownRun_Is404()
    {
        await using var run = await HostRun.StartAsync(fx);

        using var response = await run.Bob.GetAsync("/api/restores/restore-nobody--20260101000000-00000000/changes", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
