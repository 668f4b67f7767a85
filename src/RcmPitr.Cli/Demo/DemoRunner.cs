using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Host;
using RcmPitr.Local;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Processes;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Cli.Demo;

/// <summary>
/// Plays the runbook's first scenario for real on one machine and checks the outcome row by row.
/// Exits non-zero when any check fails.
/// </summary>
internal sealed class DemoRunner(TextWriter output, TextWriter error)
{
    /// <summary>Extra host configuration (tests shorten the runbook's waits with it).</summary>
    public IReadOnlyDictionary<string, string?> HostOverrides { get; init; } = new Dictionary<string, string?>();

    private const string Tenant = "acme";
    private const string Sibling = "globex-health";
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(string Check, bool Passed, string Detail)> _checks = [];

    public async Task<int> RunAsync(string home, bool keep, CancellationToken ct)
    {
        var environment = new LocalEnvironment(new LocalLayout(home), new ProcessRunner(), TimeProvider.System);
        await Phase("local environment");
        var (state, _) = await environment.UpAsync(output, ct);
        var live = environment.LiveServer(state);
        var connector = environment.Connector;
        var names = TenantDatabaseNames.For(TenantSlug.Parse(Tenant));
        await ClearEarlierDemoCopiesAsync(environment, live, names, ct);

        await using var app = RcmPitrApp.Build([], environment.Layout.HostConfig, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Configuration.AddInMemoryCollection(HostOverrides);
        });
        await app.StartAsync(ct);
        using var alice = Client(state, environment.Layout, "alice");
        using var bob = Client(state, environment.Layout, "bob");
        try
        {
            await Phase($"embedded host listening on {state.ApiUrl}");
            var (stateAtT, restoreTime) = await WriteAndMarkTAsync(connector, live, names.Canonical, ct);
            await Phase($"T = {restoreTime:O}; a bad migration now deletes and mangles acme's rows, and {Sibling} keeps writing");
            await BadMigrationAsync(connector, live, names.Canonical, ct);
            var siblingDatabase = TenantDatabaseNames.For(TenantSlug.Parse(Sibling)).Canonical;
            await SiblingWritesAsync(connector, live, siblingDatabase, ct);
            var afterMigration = await ChecksumsAsync(connector, live, names.Canonical, ct);
            var siblingBefore = await ChecksumsAsync(connector, live, siblingDatabase, ct);

            var id = await StartRestoreAsync(alice, restoreTime, ct);
            var view = new TimelineView(output);
            await FollowUntilAsync(alice, id, view, awaitingApproval: true, ct);
            await Phase("approving as bob (the requester, alice, may not approve her own restore)");
            using (var approval = await bob.PostAsJsonAsync($"/api/restores/{id}/approve", new { comment = "parity as expected for a bad migration" }, ct))
            {
                Check("approval accepted from a second principal", approval.StatusCode == HttpStatusCode.Accepted, $"HTTP {(int)approval.StatusCode}");
            }

            var final = await FollowUntilAsync(alice, id, view, awaitingApproval: false, ct);
            await VerifyAsync(environment, state, live, names, final, stateAtT, afterMigration, siblingBefore, siblingDatabase, RestoreStamp.From(restoreTime), id, ct);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }

        return await ConcludeAsync(environment, keep, ct);
    }

    private async Task ClearEarlierDemoCopiesAsync(LocalEnvironment environment, DbServerInfo live, TenantDatabaseNames names, CancellationToken ct)
    {
        await using var connection = await environment.Connector.OpenMaintenanceAsync(live, ct);
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = names.Canonical + "_" });
        var leftovers = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                leftovers.Add(reader.GetString(0));
            }
        }

        var catalog = new RcmPitr.Postgres.Sql.ServerCatalog(connection);
        foreach (var database in leftovers)
        {
            await output.WriteLineAsync($"  dropping {database}, left by an earlier demo run");
            await catalog.DropIfExistsAsync(database, ct);
        }
    }

    private async Task<(IReadOnlyDictionary<string, (long Rows, string Md5)> AtT, DateTimeOffset T)> WriteAndMarkTAsync(
        RcmPitr.Postgres.Connections.PgConnector connector, DbServerInfo live, string database, CancellationToken ct)
    {
        await using (var connection = await connector.OpenAsync(live, database, ct))
        await using (var write = new NpgsqlCommand(
            """
            INSERT INTO members.member (organization_id, member_number, full_name, date_of_birth, plan)
            SELECT 1 + g % 12, 'DEMO' || to_char(clock_timestamp(), 'YYYYMMDDHH24MISS') || lpad(g::text, 4, '0'), 'Demo member ' || g, date '1980-01-01' + g, '{"plan":"gold"}'
            FROM generate_series(1, 25) g
            """, connection))
        {
            await write.ExecuteNonQueryAsync(ct);
        }

        var atT = await ChecksumsAsync(connector, live, database, ct);
        // T is the next whole second (Azure restores to the second); nothing touches acme until it has passed.
        var now = TimeProvider.System.GetUtcNow();
        var restoreTime = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
        var wait = restoreTime.AddMilliseconds(1100) - TimeProvider.System.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, ct);
        }

        return (atT, restoreTime);
    }

    private static async Task BadMigrationAsync(RcmPitr.Postgres.Connections.PgConnector connector, DbServerInfo live, string database, CancellationToken ct)
    {
        await using var connection = await connector.OpenAsync(live, database, ct);
        await using var migration = new NpgsqlCommand(
            """
            UPDATE members.member SET full_name = upper(full_name), plan = '{}'::jsonb WHERE id % 2 = 0;
            DELETE FROM claims.claim_line WHERE status IN ('denied', 'pending');
            DELETE FROM security.app_user WHERE id % 4 = 0;
            """, connection);
        await migration.ExecuteNonQueryAsync(ct);
    }

    private static async Task SiblingWritesAsync(RcmPitr.Postgres.Connections.PgConnector connector, DbServerInfo live, string database, CancellationToken ct)
    {
        await using var connection = await connector.OpenAsync(live, database, ct);
        await using var write = new NpgsqlCommand(
            """
            INSERT INTO members.member (organization_id, member_number, full_name, date_of_birth, plan)
            SELECT 1, 'SIB' || to_char(clock_timestamp(), 'YYYYMMDDHH24MISSUS') || g, 'New sibling member ' || g, date '1990-01-01' + g, '{"plan":"silver"}'
            FROM generate_series(1, 10) g
            """, connection);
        await write.ExecuteNonQueryAsync(ct);
    }

    private async Task<string> StartRestoreAsync(HttpClient alice, DateTimeOffset restoreTime, CancellationToken ct)
    {
        await Phase($"POST /api/restores as alice: restore {Tenant} to {restoreTime:O}");
        using var response = await alice.PostAsJsonAsync("/api/restores", new
        {
            tenant = Tenant,
            restoreTime = restoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            reason = "demo: bad migration deleted and mangled rows",
        }, ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"the restore was not accepted: {ApiClient.Describe(response.StatusCode, body)}");
        }

        var id = body.GetProperty("id").GetString()!;
        await output.WriteLineAsync($"  run {id}");
        return id;
    }

    private static async Task<JsonElement> FollowUntilAsync(HttpClient client, string id, TimelineView view, bool awaitingApproval, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(15));
        while (true)
        {
            var status = await client.GetFromJsonAsync<JsonElement>($"/api/restores/{id}", timeout.Token);
            view.Render(id, status);
            var ended = status.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated";
            var waiting = status.TryGetProperty("customStatus", out var custom) && custom.ValueKind == JsonValueKind.Object && custom.GetProperty("awaitingApproval").GetBoolean();
            if (ended || (awaitingApproval && waiting))
            {
                return status;
            }

            await Task.Delay(500, timeout.Token);
        }
    }

    private async Task VerifyAsync(
        LocalEnvironment environment, LocalState state, DbServerInfo live, TenantDatabaseNames names, JsonElement final,
        IReadOnlyDictionary<string, (long Rows, string Md5)> atT, IReadOnlyDictionary<string, (long Rows, string Md5)> afterMigration,
        IReadOnlyDictionary<string, (long Rows, string Md5)> siblingBefore, string siblingDatabase, RestoreStamp stamp, string id, CancellationToken ct)
    {
        await Phase("verifying");
        var outcome = final.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.Object ? o.GetProperty("outcome").GetString() : final.GetProperty("output").ToString();
        Check("run completed with outcome Restored", outcome == "Restored", outcome ?? "-");
        var connector = environment.Connector;
        var now = await ChecksumsAsync(connector, live, names.Canonical, ct);
        foreach (var (table, expected) in atT)
        {
            var actual = now[table];
            Check($"acme {table} equals its state at T (row checksums)", actual == expected, $"{actual.Rows} rows, md5 {actual.Md5[..Math.Min(12, actual.Md5.Length)]}");
        }

        var sibling = await ChecksumsAsync(connector, live, siblingDatabase, ct);
        Check($"{Sibling} rows unchanged by the restore (its writes after T kept)", sibling.SequenceEqual(siblingBefore), $"{sibling.Sum(s => s.Value.Rows)} rows");
        await using var master = await connector.OpenAsync(live, state.MasterDatabase, ct);
        Check("acme is active", await ScalarAsync<string>(master, "SELECT status FROM identity.tenant WHERE slug = $1", Tenant) == "active", "identity.tenant.status");
        Check($"{Sibling} is active and was never frozen",
            await ScalarAsync<string>(master, "SELECT status FROM identity.tenant WHERE slug = $1", Sibling) == "active" &&
            await ScalarAsync<long>(master, "SELECT count(*) FROM identity.tenant_audit a JOIN identity.tenant t ON t.id = a.tenant_id WHERE t.slug = $1 AND a.created_at > now() - interval '1 hour'", Sibling) == 0,
            "no audit rows for the sibling");
        Check("audit row TENANT_PITR_RESTORED written, approved by bob",
            await ScalarAsync<string>(master, "SELECT details->>'approvedBy' FROM identity.tenant_audit WHERE idempotency_key = $1", AuditWriter.KeyFor(id, AuditEvents.PitrRestored)) == "bob",
            "identity.tenant_audit");
        var kept = names.PrePitr(stamp, id);
        var keptSums = await ChecksumsAsync(connector, live, kept, ct);
        Check($"{kept} kept, holding the pre-restore (post-migration) rows", keptSums.SequenceEqual(afterMigration), "for rollback within the retention");
    }

    private async Task<int> ConcludeAsync(LocalEnvironment environment, bool keep, CancellationToken ct)
    {
        await output.WriteLineAsync();
        foreach (var (check, passed, detail) in _checks)
        {
            await output.WriteLineAsync($"  {(passed ? "PASS" : "FAIL")}  {check}  ({detail})");
        }

        var failed = _checks.Count(c => !c.Passed);
        await output.WriteLineAsync($"demo finished in {_clock.Elapsed.TotalSeconds:0.0} s: {_checks.Count - failed} checks passed, {failed} failed");
        if (keep)
        {
            await output.WriteLineAsync($"environment left running; serve the API with: ./rcm-pitr serve --config {environment.Layout.HostConfig}");
        }
        else
        {
            await environment.DownAsync(purge: false, TextWriter.Null, ct);
            await output.WriteLineAsync("environment stopped (./rcm-pitr local up starts it again; local down --purge removes it)");
        }

        if (failed > 0)
        {
            await error.WriteLineAsync($"demo: {failed} check(s) failed");
        }

        return failed == 0 ? 0 : 1;
    }

    private void Check(string check, bool passed, string detail) => _checks.Add((check, passed, detail));

    private async Task Phase(string text) => await output.WriteLineAsync($"[{_clock.Elapsed.TotalSeconds,6:0.0}s] {text}");

    private static async Task<IReadOnlyDictionary<string, (long Rows, string Md5)>> ChecksumsAsync(
        RcmPitr.Postgres.Connections.PgConnector connector, DbServerInfo live, string database, CancellationToken ct)
    {
        await using var connection = await connector.OpenAsync(live, database, ct);
        return await TableChecksums.ComputeAsync(connection, ct);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, object argument)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = argument });
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static HttpClient Client(LocalState state, LocalLayout layout, string principal)
    {
        var client = new HttpClient { BaseAddress = new Uri(state.ApiUrl) };
        client.DefaultRequestHeaders.Add("x-functions-key", File.ReadAllText(layout.KeyFile(principal)).Trim());
        return client;
    }
}
