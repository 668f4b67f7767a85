using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Cli;
using RcmPitr.Host;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Local.Tests;

/// <summary>
/// The README's batch promise on a real local environment, as a user runs it: <c>rcm-pitr restore --tenants acme,globex-health
/// --to T --wait</c> restores both from ONE point-in-time restore of the live cluster (base backup + WAL archive), a second
/// person approves the batch with <c>rcm-pitr batch approve</c>, and the restored server is gone afterwards.
/// </summary>
public sealed class BatchCliTests
{
    [Fact]
    public async Task RestoreTenants_OneProvisioningForBothAndOneApproval_RestoresEachToT()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var home = await LocalHome.CreateAsync();
        var environment = home.Environment;
        var (state, _) = await environment.UpAsync(TextWriter.Null, ct);
        var live = environment.LiveServer(state);
        string[] tenants = ["acme", "globex-health"];
        var databases = tenants.Select(t => TenantDatabaseNames.For(TenantSlug.Parse(t)).Canonical).ToList();

        // The state at T, then a bad migration on both tenants after it.
        var atT = new List<IReadOnlyDictionary<string, (long Rows, string Md5)>>();
        foreach (var database in databases)
        {
            atT.Add(await ChecksumsAsync(environment, live, database, ct));
        }

        var now = TimeProvider.System.GetUtcNow();
        var restoreTime = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
        await Task.Delay(restoreTime.AddMilliseconds(1100) - TimeProvider.System.GetUtcNow(), ct);
        foreach (var database in databases)
        {
            await using var connection = await environment.Connector.OpenAsync(live, database, ct);
            await using var migration = new NpgsqlCommand("DELETE FROM claims.claim_line WHERE status = 'denied'; UPDATE members.member SET full_name = upper(full_name)", connection);
            await migration.ExecuteNonQueryAsync(ct);
        }

        await using var app = RcmPitrApp.Build([], environment.Layout.HostConfig, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["RcmPitr:Restore:StatusCacheTtl"] = "00:00:01",
                ["RcmPitr:Batch:PollInterval"] = "00:00:01",
            });
        });
        await app.StartAsync(ct);
        try
        {
            var aliceOut = new StringWriter();
            var aliceErr = new StringWriter();
            var to = restoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            var restore = CliApp.RunAsync(
                ["restore", "--tenants", string.Join(',', tenants), "--to", to, "--reason", "bad migration on two tenants", "--wait"],
                null, aliceOut, aliceErr, Environment(state, environment, "alice"));

            using var bob = new HttpClient { BaseAddress = new Uri(state.ApiUrl) };
            bob.DefaultRequestHeaders.Add("x-functions-key", (await File.ReadAllTextAsync(environment.Layout.KeyFile("bob"), ct)).Trim());
            var id = await WaitForBatchIdAsync(aliceOut, restore, ct);
            await WaitUntilAsync(bob, id, s => s.GetProperty("customStatus").GetProperty("counts").GetProperty("awaitingApproval").GetInt32() == 2, ct);

            // Alice cannot approve her own batch; bob can, for both tenants at once.
            var selfErr = new StringWriter();
            Assert.Equal(1, await CliApp.RunAsync(["batch", "approve", id], null, TextWriter.Null, selfErr, Environment(state, environment, "alice")));
            Assert.Contains("four eyes", selfErr.ToString(), StringComparison.OrdinalIgnoreCase);
            var bobOut = new StringWriter();
            Assert.Equal(0, await CliApp.RunAsync(["batch", "approve", id, "--comment", "counts as expected"], null, bobOut, TextWriter.Null, Environment(state, environment, "bob")));
            Assert.Contains("approved by bob: 2 member(s)", bobOut.ToString(), StringComparison.Ordinal);

            var exit = await restore.WaitAsync(TimeSpan.FromMinutes(10), ct);
            Assert.True(exit == 0, aliceOut + "\n" + aliceErr);
            Assert.Contains("Succeeded: 2 of 2 tenants restored; 1 restored server for 1 source server(s)", aliceOut.ToString(), StringComparison.Ordinal);

            var final = await bob.GetFromJsonAsync<JsonElement>($"/api/restore-batches/{id}", ct);
            var server = final.GetProperty("output").GetProperty("servers").EnumerateArray().Single();
            Assert.Equal("created for this batch; released by the batch, its last holder: deleted", server.GetProperty("detail").GetString());
            // One provisioning: each member's own acquire attached to the batch's server instead of creating one.
            foreach (var member in final.GetProperty("output").GetProperty("members").EnumerateArray())
            {
                var run = await bob.GetFromJsonAsync<JsonElement>($"/api/restores/{member.GetProperty("runId").GetString()}", ct);
                var provision = run.GetProperty("customStatus").GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "start point-in-time restore");
                Assert.Contains("(shared: held by", provision.GetProperty("detail").GetString(), StringComparison.Ordinal);
                Assert.Equal("Restored", run.GetProperty("output").GetProperty("outcome").GetString());
            }

            for (var i = 0; i < databases.Count; i++)
            {
                Assert.Equal(atT[i], await ChecksumsAsync(environment, live, databases[i], ct));
            }

            // The restored server was deleted by its last holder.
            Assert.Empty(Directory.Exists(environment.Layout.ServersDirectory) ? Directory.EnumerateDirectories(environment.Layout.ServersDirectory) : []);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    private static Func<string, string?> Environment(Local.LocalState state, LocalEnvironment environment, string principal)
    {
        var key = File.ReadAllText(environment.Layout.KeyFile(principal)).Trim();
        return name => name switch
        {
            CliApp.KeyVariable => key,
            CliApp.UrlVariable => state.ApiUrl,
            _ => null,
        };
    }

    private static async Task<string> WaitForBatchIdAsync(StringWriter output, Task<int> restore, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (true)
        {
            var line = output.ToString().Split('\n').FirstOrDefault(l => l.StartsWith("started batch ", StringComparison.Ordinal));
            if (line is not null)
            {
                return line["started batch ".Length..].Trim();
            }

            Assert.False(restore.IsCompleted, $"the CLI ended before starting a batch: {output}");
            await Task.Delay(100, timeout.Token);
        }
    }

    private static async Task WaitUntilAsync(HttpClient client, string id, Func<JsonElement, bool> until, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        while (true)
        {
            var status = await client.GetFromJsonAsync<JsonElement>($"/api/restore-batches/{id}", timeout.Token);
            if (status.TryGetProperty("customStatus", out var custom) && custom.ValueKind == JsonValueKind.Object && until(status))
            {
                return;
            }

            Assert.NotEqual("Completed", status.GetProperty("runtimeStatus").GetString());
            await Task.Delay(500, timeout.Token);
        }
    }

    private static async Task<IReadOnlyDictionary<string, (long Rows, string Md5)>> ChecksumsAsync(LocalEnvironment environment, Workflow.Contracts.DbServerInfo live, string database, CancellationToken ct)
    {
        await using var connection = await environment.Connector.OpenAsync(live, database, ct);
        return await TableChecksums.ComputeAsync(connection, ct);
    }
}
