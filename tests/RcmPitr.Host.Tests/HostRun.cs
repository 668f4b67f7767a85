using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Npgsql;
using RcmPitr.Api;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Sql;
using RcmPitr.Testing;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Host.Tests;

/// <summary>
/// One test's embedded host on an in-memory server, with its own master and engine databases and its own
/// tenants: each has its live database on "live" and its state at T on "pitr".
/// </summary>
public sealed class HostRun : IAsyncDisposable
{
    public const string AliceKey = "key-alice-0123456789abcdef0123456789";
    public const string BobKey = "key-bob-9876543210fedcba9876543210";
    public const string CarolKey = "key-carol-5555aaaa6666bbbb7777cccc8888";

    private readonly HostClusterFixture _fx;
    private readonly List<string> _databases = [];
    private readonly Dictionary<string, string?> _settings;
    private readonly bool _kestrel;
    private WebApplication? _app;

    private HostRun(HostClusterFixture fx, string id, TimeSpan approvalTimeout, IReadOnlyDictionary<string, string?>? settings, bool kestrel, bool legacyKeys)
    {
        _kestrel = kestrel;
        LegacyKeys = legacyKeys;
        _fx = fx;
        Id = id;
        Master = "master_" + id;
        State = "state_" + id;
        RestoreTime = TimeProvider.System.GetUtcNow().AddMinutes(-2);
        _settings = HostSettings.Common(fx, Master, State, Path.Combine(fx.Root, "scratch-" + id));
        _settings["RcmPitr:Engine:ActivityLease"] = "00:00:10";
        _settings["RcmPitr:Restore:ApprovalTimeout"] = approvalTimeout.ToString("c", CultureInfo.InvariantCulture);
        _settings["RcmPitr:Restore:RetryAttempts"] = "2";
        if (legacyKeys)
        {
            _settings[$"RcmPitr:ApiKeys:{AliceKey}"] = "alice";
            _settings[$"RcmPitr:ApiKeys:{BobKey}"] = "bob";
        }
        else
        {
            // alice without roles configured (requester and approver by default), bob and carol with theirs.
            _settings["RcmPitr:Principals:alice:KeySha256"] = ApiKeyPrincipals.HashHex(AliceKey);
            _settings["RcmPitr:Principals:bob:KeySha256"] = ApiKeyPrincipals.HashHex(BobKey);
            _settings["RcmPitr:Principals:bob:Roles:0"] = "requester";
            _settings["RcmPitr:Principals:bob:Roles:1"] = "approver";
            _settings["RcmPitr:Principals:carol:KeySha256"] = ApiKeyPrincipals.HashHex(CarolKey);
            _settings["RcmPitr:Principals:carol:Roles:0"] = "operator";
            _settings["RcmPitr:Principals:carol:Roles:1"] = "approver";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public string Id { get; }

    /// <summary>The host's configuration; a change takes effect at the next <see cref="StartHostAsync"/>.</summary>
    public Dictionary<string, string?> Settings => _settings;
    public string Master { get; }
    public string State { get; }
    public DateTimeOffset RestoreTime { get; }
    public string Stamp => RestoreStamp.From(RestoreTime).Value;

    /// <summary>The name of the database of <paramref name="kind"/> (<c>pre_pitr</c>, <c>rollback</c>, <c>asof</c>…) run <paramref name="runId"/> derives from <paramref name="database"/>.</summary>
    public string Derived(string database, string kind, string runId) => $"{database}_{kind}_{Stamp}_{RunIds.Tag(runId)}";
    public HttpClient Alice { get; private set; } = null!;
    public HttpClient Bob { get; private set; } = null!;
    public HttpClient Carol { get; private set; } = null!;
    public HttpClient Anonymous { get; private set; } = null!;

    /// <summary>True when the keys are configured in the legacy plaintext <c>ApiKeys</c> map.</summary>
    public bool LegacyKeys { get; }

    /// <summary>With <c>kestrel</c>: the real server's address on loopback (for clients built the real way).</summary>
    public Uri? Address { get; private set; }

    /// <summary>
    /// Starts a host on fresh databases. <paramref name="settings"/> add to or override the configuration; with
    /// <paramref name="kestrel"/> the host listens on a free loopback port instead of the in-memory server.
    /// </summary>
    public static async Task<HostRun> StartAsync(
        HostClusterFixture fx, TimeSpan? approvalTimeout = null, IReadOnlyDictionary<string, string?>? settings = null, bool kestrel = false, bool legacyKeys = false)
    {
        fx.RequirePostgres();
        var run = new HostRun(fx, Guid.NewGuid().ToString("N")[..10], approvalTimeout ?? TimeSpan.FromMinutes(10), settings, kestrel, legacyKeys);
        await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {run.Master}");
        await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {run.State}");
        await using (var master = await fx.Connector.OpenAsync(fx.LiveServer, run.Master, CancellationToken.None))
        {
            await SchemaMigrator.MigrateAsync(master, EmbeddedSchema.Master, CancellationToken.None);
        }

        await run.ExecMasterAsync(
            "INSERT INTO identity.db_server (name, fqdn, port, admin_user, admin_secret_ref, major_version) VALUES ($1, $2, $3, $4, $5, $6)",
            fx.LiveServer.Name, fx.LiveServer.Fqdn, fx.LiveServer.Port, fx.LiveServer.AdminUser, fx.LiveServer.AdminSecretRef, fx.LiveServer.MajorVersion);
        await run.StartHostAsync();
        return run;
    }

    /// <summary>Starts (or restarts) the host on the same databases.</summary>
    public async Task StartHostAsync()
    {
        _app = RcmPitrApp.Build(_kestrel ? ["--urls", "http://127.0.0.1:0"] : [], configure: builder =>
        {
            if (!_kestrel)
            {
                builder.WebHost.UseTestServer();
            }

            builder.Configuration.AddInMemoryCollection(_settings);
        });
        await _app.StartAsync();
        if (_kestrel)
        {
            Address = new Uri(_app.Urls.First());
            Alice = Client(Address, AliceKey);
            Bob = Client(Address, BobKey);
            Anonymous = new HttpClient { BaseAddress = Address };
            return;
        }

        var server = _app.GetTestServer();
        Alice = Client(server, AliceKey);
        Bob = Client(server, BobKey);
        Carol = Client(server, CarolKey);
        Anonymous = server.CreateClient();
    }

    /// <summary>A client of this host presenting <paramref name="key"/>.</summary>
    public HttpClient ClientWithKey(string key) => Address is { } address ? Client(address, key) : Client(_app!.GetTestServer(), key);

    /// <summary>Stops the host as a process shutdown would; its engine state stays in the database.</summary>
    public async Task StopHostAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    /// <summary>A tenant whose live database has <paramref name="liveMembers"/> members and whose state at T has <paramref name="membersAtT"/>.</summary>
    public async Task<(string Slug, Guid Id, string Database)> AddTenantAsync(string prefix, int liveMembers, int membersAtT)
    {
        var slug = $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";
        var database = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Canonical;
        foreach (var (server, members, origin) in new[] { (_fx.LiveServer, liveMembers, "live"), (_fx.PitrServer, membersAtT, "at-t") })
        {
            await using var maintenance = await _fx.Connector.OpenMaintenanceAsync(server, CancellationToken.None);
            await TenantData.CreateAsync(maintenance, db => _fx.Connector.OpenAsync(server, db, CancellationToken.None), database, members, origin);
        }

        _databases.Add(database);
        var id = Guid.NewGuid();
        await _fx.Secrets.SetSecretAsync($"tenant-db-{slug}", $"Host=127.0.0.1;Database={database};Username=app;Password=app", CancellationToken.None);
        await ExecMasterAsync("INSERT INTO identity.tenant (id, slug, db_server, db_config_ref) VALUES ($1, $2, $3, $4)", id, slug, _fx.LiveServer.Name, $"tenant-db-{slug}");
        return (slug, id, database);
    }

    public Task<HttpResponseMessage> StartRestoreAsync(HttpClient client, string tenant, string? mode = null, string? strategy = null, DateTimeOffset? time = null, string? transfer = null) =>
        client.PostAsJsonAsync("/api/restores", new
        {
            tenant,
            restoreTime = (time ?? RestoreTime).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            mode,
            strategy,
            transfer,
            reason = "bad migration deleted members",
        });

    public async Task<JsonElement> StatusAsync(string id)
    {
        using var response = await Alice.GetAsync($"/api/restores/{id}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Polls the status URL until <paramref name="until"/> holds (bounded).</summary>
    public async Task<JsonElement> WaitAsync(string id, Func<JsonElement, bool> until)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (true)
        {
            var status = await StatusAsync(id);
            if (until(status))
            {
                return status;
            }

            await Task.Delay(150, timeout.Token);
        }
    }

    /// <summary>Polls a drill until its report is written (bounded).</summary>
    public async Task<JsonElement> WaitForDrillReportAsync(string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        while (true)
        {
            using var response = await Alice.GetAsync($"/api/drills/{id}", timeout.Token);
            if (response.StatusCode == System.Net.HttpStatusCode.OK)
            {
                return await response.Content.ReadFromJsonAsync<JsonElement>(timeout.Token);
            }

            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
            await Task.Delay(250, timeout.Token);
        }
    }

    public static bool AwaitingApproval(JsonElement s) =>
        s.TryGetProperty("customStatus", out var c) && c.ValueKind == JsonValueKind.Object && c.GetProperty("awaitingApproval").GetBoolean();

    public static bool Terminal(JsonElement s) => s.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated";

    public Task<string> FingerprintAsync(bool onLive, string database) => Fingerprint(onLive ? _fx.LiveServer : _fx.PitrServer, database);

    public async Task<IReadOnlyList<string>> DatabasesLikeAsync(string canonical)
    {
        await using var connection = await _fx.Connector.OpenMaintenanceAsync(_fx.LiveServer, CancellationToken.None);
        return await TenantData.DatabasesOfAsync(connection, canonical);
    }

    public async Task ExecMasterAsync(string sql, params object[] args) => await _fx.ExecAsync(_fx.LiveServer, Master, sql, args);

    /// <summary>Makes every insert of the audit row with idempotency key <paramref name="key"/> fail, as a master refusing a write would.</summary>
    public Task FailAuditRowAsync(string key) => ExecMasterAsync(
        $"""
        CREATE OR REPLACE FUNCTION public.fail_audit_{Id}() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
          IF NEW.idempotency_key = {PgQuote.Literal(key)} THEN RAISE EXCEPTION 'audit write refused for this test'; END IF;
          RETURN NEW;
        END $f$;
        DROP TRIGGER IF EXISTS fail_audit_{Id} ON identity.tenant_audit;
        CREATE TRIGGER fail_audit_{Id} BEFORE INSERT ON identity.tenant_audit FOR EACH ROW EXECUTE FUNCTION public.fail_audit_{Id}();
        """);

    /// <summary>Lets the audit rows through again.</summary>
    public Task AllowAuditRowsAsync() => ExecMasterAsync($"DROP TRIGGER IF EXISTS fail_audit_{Id} ON identity.tenant_audit");

    public Task<T> MasterScalarAsync<T>(string sql, params object[] args) => _fx.ScalarAsync<T>(_fx.LiveServer, Master, sql, args);

    public async ValueTask DisposeAsync()
    {
        await StopHostAsync();
        await using var connection = await _fx.Connector.OpenMaintenanceAsync(_fx.LiveServer, CancellationToken.None);
        var catalog = new ServerCatalog(connection);
        foreach (var database in _databases)
        {
            foreach (var name in await DatabasesLikeAsync(database))
            {
                await catalog.DropIfExistsAsync(name, CancellationToken.None);
            }

            await using var pitr = await _fx.Connector.OpenMaintenanceAsync(_fx.PitrServer, CancellationToken.None);
            await new ServerCatalog(pitr).DropIfExistsAsync(database, CancellationToken.None);
        }

        await catalog.DropIfExistsAsync(Master, CancellationToken.None);
        await catalog.DropIfExistsAsync(State, CancellationToken.None);
    }

    private async Task<string> Fingerprint(Workflow.Contracts.DbServerInfo server, string database)
    {
        await using var connection = await _fx.Connector.OpenAsync(server, database, CancellationToken.None);
        return await TenantData.FingerprintAsync(connection);
    }

    private static HttpClient Client(Uri address, string key)
    {
        var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Add("x-functions-key", key);
        return client;
    }

    private static HttpClient Client(TestServer server, string key)
    {
        var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("x-functions-key", key);
        return client;
    }
}
