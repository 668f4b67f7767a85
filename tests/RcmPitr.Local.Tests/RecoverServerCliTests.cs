using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Cli;
using RcmPitr.Host;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Sql;
using RcmPitr.Testing;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Local.Tests;

/// <summary>
/// Region loss on a real local environment, as a user runs it: the live cluster is stopped and its folder deleted, then
/// <c>rcm-pitr recover-server --server pg-local --wait</c> geo-restores it from the newest base backup and the whole WAL archive
/// into a new cluster, a second person approves once, and every tenant serves again from the recovered cluster with its data
/// as of the last archived WAL. The master and the engine's state live on the live cluster in the default local setup, so the
/// test first moves them to a second cluster that survives — as production keeps the master outside the tenant servers' region.
/// </summary>
public sealed class RecoverServerCliTests
{
    [Fact]
    public async Task RecoverServer_LiveClusterDeleted_EveryTenantServesFromTheRecoveredClusterAsOfTheLastArchivedWal()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var home = await LocalHome.CreateAsync();
        var environment = home.Environment;
        var (state, _) = await environment.UpAsync(TextWriter.Null, ct);
        var live = environment.LiveServer(state);
        string[] tenants = ["acme", "globex-health"];
        var databases = tenants.Select(t => TenantDatabaseNames.For(TenantSlug.Parse(t)).Canonical).ToList();

        // Changes after the base backup: only the WAL archive carries them. Then a WAL switch, archived, and the state recorded.
        foreach (var database in databases)
        {
            await using var connection = await environment.Connector.OpenAsync(live, database, ct);
            await using var change = new NpgsqlCommand("DELETE FROM claims.claim_line WHERE status = 'denied'; UPDATE members.member SET full_name = upper(full_name)", connection);
            await change.ExecuteNonQueryAsync(ct);
        }

        await SwitchAndArchiveWalAsync(environment, live, ct);
        var expected = new List<IReadOnlyDictionary<string, (long Rows, string Md5)>>();
        foreach (var database in databases)
        {
            await using var connection = await environment.Connector.OpenAsync(live, database, ct);
            expected.Add(await TableChecksums.ComputeAsync(connection, ct));
        }

        // The master and the engine's state move to a cluster outside the "region".
        var password = await environment.Secrets.GetSecretAsync(state.AdminSecretRef, ct);
        await using var control = await LocalCluster.CreateAsync(
            new LocalClusterOptions { RootDirectory = Path.Combine(Path.GetDirectoryName(home.Path)!, "control"), Name = "control", SuperUser = state.AdminUser, Password = password },
            environment.Tools, new ProcessRunner(), ct);
        var controlServer = control.ToServerInfo(state.AdminSecretRef);
        await CopyMasterAsync(environment.Connector, live, controlServer, state, ct);

        await using var app = RcmPitrApp.Build([], environment.Layout.HostConfig, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["RcmPitr:ControlPlane:Port"] = control.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["RcmPitr:StateDatabase:Port"] = control.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["RcmPitr:Restore:StatusCacheTtl"] = "00:00:01",
                ["RcmPitr:Restore:FirstPollInterval"] = "00:00:01",
                ["RcmPitr:Restore:MaxPollInterval"] = "00:00:02",
                ["RcmPitr:Provisioner:BackupInterval"] = "00:00:00",
            });
        });
        await app.StartAsync(ct);
        try
        {
            // Refused before the loss: an unknown server, and a server that still answers.
            var refused = new StringWriter();
            Assert.Equal(1, await CliApp.RunAsync(["recover-server", "--server", "pg-nowhere", "--reason", "typo"], null, TextWriter.Null, refused, Env(state, environment, "alice")));
            Assert.Contains("No server 'pg-nowhere' is registered", refused.ToString(), StringComparison.Ordinal);
            refused = new StringWriter();
            Assert.Equal(1, await CliApp.RunAsync(["recover-server", "--server", LocalEnvironment.LiveServerName, "--reason", "not lost"], null, TextWriter.Null, refused, Env(state, environment, "alice")));
            Assert.Contains("a server that still answers is not recovered", refused.ToString(), StringComparison.Ordinal);

            // Region loss: the live cluster stops and its folder is gone.
            await environment.LiveCluster(state).StopAsync(ct);
            Directory.Delete(environment.Layout.LiveDirectory, recursive: true);

            var aliceOut = new LockedStringWriter();
            var aliceErr = new LockedStringWriter();
            var recover = CliApp.RunAsync(
                ["recover-server", "--server", LocalEnvironment.LiveServerName, "--reason", "region lost", "--wait"], null, aliceOut, aliceErr, Env(state, environment, "alice"));
            var id = await WaitForIdAsync(aliceOut, aliceErr, recover, ct);
            using var bob = new HttpClient { BaseAddress = new Uri(state.ApiUrl) };
            bob.DefaultRequestHeaders.Add("x-functions-key", (await File.ReadAllTextAsync(environment.Layout.KeyFile("bob"), ct)).Trim());
            var awaiting = await WaitUntilAsync(bob, id, s => s.GetProperty("customStatus").GetProperty("awaitingApproval").GetBoolean(), ct);
            Assert.All(awaiting.GetProperty("customStatus").GetProperty("tenants").EnumerateArray(), t => Assert.Equal("checked", t.GetProperty("state").GetString()));

            // Four eyes: alice requested it; bob approves once, for every tenant.
            var selfErr = new StringWriter();
            Assert.Equal(1, await CliApp.RunAsync(["recovery", "approve", id], null, TextWriter.Null, selfErr, Env(state, environment, "alice")));
            Assert.Contains("four eyes", selfErr.ToString(), StringComparison.OrdinalIgnoreCase);
            Assert.Equal(0, await CliApp.RunAsync(["recovery", "approve", id, "--comment", "region is down"], null, TextWriter.Null, TextWriter.Null, Env(state, environment, "bob")));

            var exit = await recover.WaitAsync(TimeSpan.FromMinutes(10), ct);
            TestContext.Current.TestOutputHelper?.WriteLine(aliceOut.ToString());
            Assert.True(exit == 0, aliceOut + "\n" + aliceErr);
            Assert.Contains("Recovered: 2 of 2 tenants of pg-local recovered to pg-local-geo-", aliceOut.ToString(), StringComparison.Ordinal);

            var final = await bob.GetFromJsonAsync<JsonElement>($"/api/server-recoveries/{id}", ct);
            var recoveredName = final.GetProperty("output").GetProperty("recoveredServer").GetString()!;
            Assert.Contains("not a point in time", final.GetProperty("output").GetProperty("restorePoint").GetString(), StringComparison.Ordinal);
            await using var master = await environment.Connector.OpenAsync(controlServer, state.MasterDatabase, ct);
            var recovered = await ServerAsync(master, recoveredName, ct);
            for (var i = 0; i < tenants.Length; i++)
            {
                // The master and the connection secret point at the recovered server; the data is what was archived.
                var (server, configRef) = await TenantAsync(master, tenants[i], ct);
                Assert.Equal(recoveredName, server);
                var secret = new NpgsqlConnectionStringBuilder(await environment.Secrets.GetSecretAsync(configRef, ct));
                Assert.Equal((recovered.Fqdn, recovered.Port, databases[i]), (secret.Host, secret.Port, secret.Database));
                Assert.NotEqual(live.Port, secret.Port);
                await using var tenantDb = await environment.Connector.OpenAsync(recovered, databases[i], ct);
                Assert.Equal(expected[i], await TableChecksums.ComputeAsync(tenantDb, ct));
                Assert.Equal(
                    [AuditEvents.DbServerChanged, AuditEvents.ServerRecovered],
                    await AuditEventsAsync(master, tenants[i], [AuditEvents.DbServerChanged, AuditEvents.ServerRecovered], ct));
                Assert.Equal("active", await StatusAsync(master, tenants[i], ct));
            }
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    private static async Task SwitchAndArchiveWalAsync(LocalEnvironment environment, DbServerInfo live, CancellationToken ct)
    {
        string segment;
        await using (var connection = await environment.Connector.OpenMaintenanceAsync(live, ct))
        await using (var switchWal = new NpgsqlCommand("SELECT pg_walfile_name(pg_switch_wal())", connection))
        {
            segment = (string)(await switchWal.ExecuteScalarAsync(ct))!;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (!File.Exists(Path.Combine(environment.Layout.WalArchive, segment)))
        {
            await Task.Delay(100, timeout.Token);
        }
    }

    // The master's servers and tenants as they are on the live cluster, in a new master on the control cluster (with an empty state database beside it).
    private static async Task CopyMasterAsync(PgConnector connector, DbServerInfo live, DbServerInfo control, LocalState state, CancellationToken ct)
    {
        await using (var maintenance = await connector.OpenMaintenanceAsync(control, ct))
        {
            foreach (var database in new[] { state.MasterDatabase, state.StateDatabase })
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE {PgQuote.Identifier(database)}", maintenance);
                await create.ExecuteNonQueryAsync(ct);
            }
        }

        await using var target = await connector.OpenAsync(control, state.MasterDatabase, ct);
        await SchemaMigrator.MigrateAsync(target, EmbeddedSchema.Master, ct);
        await using var source = await connector.OpenAsync(live, state.MasterDatabase, ct);
        foreach (var (select, insert) in new[]
                 {
                     ("SELECT name, fqdn, port, admin_user, admin_secret_ref, major_version FROM identity.db_server",
                      "INSERT INTO identity.db_server (name, fqdn, port, admin_user, admin_secret_ref, major_version) VALUES ($1, $2, $3, $4, $5, $6)"),
                     ("SELECT id, slug, status, db_server, db_config_ref FROM identity.tenant",
                      "INSERT INTO identity.tenant (id, slug, status, db_server, db_config_ref) VALUES ($1, $2, $3, $4, $5)"),
                 })
        {
            var rows = new List<object[]>();
            await using (var read = new NpgsqlCommand(select, source))
            await using (var reader = await read.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    var row = new object[reader.FieldCount];
                    reader.GetValues(row);
                    rows.Add(row);
                }
            }

            foreach (var row in rows)
            {
                await using var write = new NpgsqlCommand(insert, target);
                foreach (var value in row)
                {
                    write.Parameters.Add(new NpgsqlParameter { Value = value });
                }

                await write.ExecuteNonQueryAsync(ct);
            }
        }
    }

    private static async Task<DbServerInfo> ServerAsync(NpgsqlConnection master, string name, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT fqdn, port, admin_user, admin_secret_ref, major_version FROM identity.db_server WHERE name = $1", master);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        await using var reader = await command.ExecuteReaderAsync(ct);
        Assert.True(await reader.ReadAsync(ct), $"{name} is not registered in identity.db_server");
        return new DbServerInfo(name, reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4));
    }

    private static async Task<(string Server, string ConfigRef)> TenantAsync(NpgsqlConnection master, string slug, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT db_server, db_config_ref FROM identity.tenant WHERE slug = $1", master);
        command.Parameters.Add(new NpgsqlParameter { Value = slug });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetString(0), reader.GetString(1));
    }

    private static async Task<string> StatusAsync(NpgsqlConnection master, string slug, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT status FROM identity.tenant WHERE slug = $1", master);
        command.Parameters.Add(new NpgsqlParameter { Value = slug });
        return (string)(await command.ExecuteScalarAsync(ct))!;
    }

    private static async Task<List<string>> AuditEventsAsync(NpgsqlConnection master, string slug, string[] events, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT a.event FROM identity.tenant_audit a JOIN identity.tenant t ON t.id = a.tenant_id WHERE t.slug = $1 AND a.event = ANY($2) ORDER BY a.id", master);
        command.Parameters.Add(new NpgsqlParameter { Value = slug });
        command.Parameters.Add(new NpgsqlParameter { Value = events });
        var found = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            found.Add(reader.GetString(0));
        }

        return found;
    }

    private static Func<string, string?> Env(LocalState state, LocalEnvironment environment, string principal)
    {
        var key = File.ReadAllText(environment.Layout.KeyFile(principal)).Trim();
        return name => name switch
        {
            CliApp.KeyVariable => key,
            CliApp.UrlVariable => state.ApiUrl,
            _ => null,
        };
    }

    private static async Task<string> WaitForIdAsync(StringWriter output, StringWriter error, Task<int> recover, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (true)
        {
            var line = output.ToString().Split('\n').FirstOrDefault(l => l.StartsWith("started recovery ", StringComparison.Ordinal));
            if (line is not null)
            {
                return line["started recovery ".Length..].Trim();
            }

            Assert.False(recover.IsCompleted, $"the CLI ended before starting a recovery: {output}\n{error}");
            await Task.Delay(100, timeout.Token);
        }
    }

    private static async Task<JsonElement> WaitUntilAsync(HttpClient client, string id, Func<JsonElement, bool> until, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        while (true)
        {
            var status = await client.GetFromJsonAsync<JsonElement>($"/api/server-recoveries/{id}", timeout.Token);
            if (status.TryGetProperty("customStatus", out var custom) && custom.ValueKind == JsonValueKind.Object && until(status))
            {
                return status;
            }

            Assert.True(status.GetProperty("runtimeStatus").GetString() is "Running" or "Pending", status.ToString());
            await Task.Delay(500, timeout.Token);
        }
    }
}
