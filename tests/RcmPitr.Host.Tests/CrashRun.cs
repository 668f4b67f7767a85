using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Sql;
using RcmPitr.Testing;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Host.Tests;

/// <summary>
/// One crash test's world: its own master and engine databases, tenants (live database on "live", state at T on
/// "pitr"), a folder holding the host's configuration file, scratch and password-file folders, and the real
/// <c>rcm-pitr serve</c> processes started over it — each one killed or stopped before the next starts. Everything is
/// removed on dispose, pass or fail.
/// </summary>
public sealed class CrashRun : IAsyncDisposable
{
    public const string AliceKey = "crash-key-alice-0123456789abcdef0123456789";
    public const string BobKey = "crash-key-bob-9876543210fedcba9876543210";

    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(240);

    private readonly HostClusterFixture _fx;
    private readonly List<string> _databases = [];
    private readonly List<ServeProcess> _hosts = [];
    private readonly List<string> _statuses = [];
    private readonly List<(string RunId, Tenant Tenant)> _runs = [];
    private readonly Dictionary<string, string?> _settings;

    private CrashRun(HostClusterFixture fx, string id, IReadOnlyDictionary<string, string?> overrides)
    {
        _fx = fx;
        Id = id;
        Master = "master_" + id;
        State = "state_" + id;
        Folder = Path.Combine(fx.Root, "crash-" + id);
        RestoreTime = TimeProvider.System.GetUtcNow().AddMinutes(-2);
        _settings = Settings(overrides);
    }

    public string Id { get; }
    public string Master { get; }
    public string State { get; }
    public string Folder { get; }
    public string ConfigFile => Path.Combine(Folder, "rcm-pitr.json");
    public string Scratch => Path.Combine(Folder, "scratch");
    public string PasswordFiles => Path.Combine(Folder, "pgpass");

    /// <summary>Sessions of this test's hosts carry this application name on the tenant servers.</summary>
    public string ApplicationName => "rcm-pitr-crash-" + Id;

    public DateTimeOffset RestoreTime { get; }
    public RestoreStamp Stamp => RestoreStamp.From(RestoreTime);
    public ServeProcess Host => _hosts[^1];
    public HttpClient Alice { get; private set; } = null!;
    public HttpClient Bob { get; private set; } = null!;
    public DbServerInfo Live => _fx.LiveServer;
    public DbServerInfo Pitr => _fx.PitrServer;

    /// <summary>Creates the world; <paramref name="overrides"/> (keys as <c>RcmPitr:Restore:StatusCacheTtl</c>) win over the defaults.</summary>
    public static async Task<CrashRun> CreateAsync(HostClusterFixture fx, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        fx.RequirePostgres();
        var run = new CrashRun(fx, Guid.NewGuid().ToString("N")[..10], overrides ?? new Dictionary<string, string?>());
        Directory.CreateDirectory(run.Folder);
        await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {run.Master}");
        await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {run.State}");
        await using (var master = await fx.Connector.OpenAsync(fx.LiveServer, run.Master, CancellationToken.None))
        {
            await SchemaMigrator.MigrateAsync(master, EmbeddedSchema.Master, CancellationToken.None);
        }

        await run.ExecMasterAsync(
            "INSERT INTO identity.db_server (name, fqdn, port, admin_user, admin_secret_ref, major_version) VALUES ($1, $2, $3, $4, $5, $6)",
            fx.LiveServer.Name, fx.LiveServer.Fqdn, fx.LiveServer.Port, fx.LiveServer.AdminUser, fx.LiveServer.AdminSecretRef, fx.LiveServer.MajorVersion);
        await File.WriteAllTextAsync(run.ConfigFile, ToJson(run._settings));
        File.SetUnixFileMode(run.ConfigFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return run;
    }

    /// <summary>Starts a host process over this world (the previous one must have been killed).</summary>
    public async Task StartHostAsync()
    {
        if (_hosts.Count > 0 && !Host.HasExited)
        {
            throw new InvalidOperationException("the previous host still runs");
        }

        var host = await ServeProcess.StartAsync(ConfigFile, Folder);
        _hosts.Add(host);
        Alice?.Dispose();
        Bob?.Dispose();
        Alice = host.Client(AliceKey);
        Bob = host.Client(BobKey);
    }

    /// <summary>SIGKILLs the current host.</summary>
    public Task KillHostAsync() => Host.KillAsync();

    /// <summary>What every host process of this world wrote to stdout and stderr.</summary>
    public IEnumerable<string> HostOutputs => _hosts.Select(h => h.Output);

    /// <summary>
    /// A tenant whose live database has <paramref name="liveMembers"/> members and whose state at T has
    /// <paramref name="membersAtT"/>, plus — at T only, as a migration after T dropped it — <paramref name="documentsAtT"/>
    /// rows of 1.5 kB in <c>members.document</c>, which make the tenant's biggest table.
    /// </summary>
    public async Task<Tenant> AddTenantAsync(string prefix, int liveMembers, int membersAtT, int documentsAtT = 0)
    {
        var slug = $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}";
        var names = TenantDatabaseNames.For(TenantSlug.Parse(slug));
        _databases.Add(names.Canonical);
        foreach (var (server, members, origin) in new[] { (Live, liveMembers, "live"), (Pitr, membersAtT, "at-t") })
        {
            await using var maintenance = await _fx.Connector.OpenMaintenanceAsync(server, CancellationToken.None);
            await TenantData.CreateAsync(maintenance, db => _fx.Connector.OpenAsync(server, db, CancellationToken.None), names.Canonical, members, origin);
        }

        if (documentsAtT > 0)
        {
            await _fx.ExecAsync(Pitr, names.Canonical,
                $"""
                CREATE TABLE members.document (id bigint PRIMARY KEY, member_id bigint NOT NULL, body text NOT NULL);
                INSERT INTO members.document SELECT g, 1 + g % 10, repeat(md5(g::text), 48) FROM generate_series(1, {documentsAtT}) g;
                """);
        }

        var id = Guid.NewGuid();
        await _fx.Secrets.SetSecretAsync($"tenant-db-{slug}", $"Host=127.0.0.1;Database={names.Canonical};Username=app;Password=app", CancellationToken.None);
        await ExecMasterAsync("INSERT INTO identity.tenant (id, slug, db_server, db_config_ref) VALUES ($1, $2, $3, $4)", id, slug, Live.Name, $"tenant-db-{slug}");
        return new Tenant(slug, id, names);
    }

    /// <summary>Row checksums of the tenant's tables: the canary tables and, where they exist, <c>members.document</c> and <c>members.attachment</c>.</summary>
    public async Task<string> FingerprintAsync(DbServerInfo server, string database)
    {
        await using var connection = await _fx.Connector.OpenAsync(server, database, CancellationToken.None);
        var canary = await TenantData.FingerprintAsync(connection);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('members.document') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync())!)
            {
                return canary + "/no documents";
            }
        }

        await using var documents = new NpgsqlCommand(
            """
            SELECT count(*) || ':' || md5(string_agg(md5(d::text), '' ORDER BY d.id))
                   || CASE WHEN to_regclass('members.attachment') IS NULL THEN '' ELSE '/attachments' END FROM members.document d
            """, connection);
        var result = canary + "/" + (string)(await documents.ExecuteScalarAsync())!;
        if (result.EndsWith("/attachments", StringComparison.Ordinal))
        {
            await using var attachments = new NpgsqlCommand("SELECT count(*) || ':' || md5(string_agg(md5(a::text), '' ORDER BY a.id)) FROM members.attachment a", connection);
            result += ":" + (string)(await attachments.ExecuteScalarAsync())!;
        }

        return result;
    }

    /// <summary>Committed rows in <c>members.document</c> of <paramref name="database"/> on live (0 while the table does not exist).</summary>
    public async Task<long> DocumentsInAsync(string database)
    {
        await using var connection = await _fx.Connector.OpenAsync(Live, database, CancellationToken.None);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('members.document') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync())!)
            {
                return 0;
            }
        }

        await using var count = new NpgsqlCommand("SELECT count(*) FROM members.document", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    /// <summary>Starts a restore of <paramref name="tenant"/> as alice; returns the run id.</summary>
    public async Task<string> StartRestoreAsync(Tenant tenant, string? transfer = null)
    {
        using var response = await Alice.PostAsJsonAsync("/api/restores", new
        {
            tenant = tenant.Slug,
            restoreTime = RestoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            transfer,
            reason = "bad migration dropped the documents table",
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"start answered {(int)response.StatusCode}: {body}");
        var runId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        _runs.Add((runId, tenant));
        return runId;
    }

    /// <summary>The run's status from the API; every body is kept for the secret check.</summary>
    public async Task<JsonElement> StatusAsync(string runId)
    {
        using var response = await Alice.GetAsync($"/api/restores/{runId}");
        var body = await response.Content.ReadAsStringAsync();
        lock (_statuses)
        {
            _statuses.Add(body);
        }

        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"status answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Polls the status until <paramref name="until"/> holds (bounded); a run that ends otherwise fails the test.</summary>
    public async Task<JsonElement> WaitAsync(string runId, Func<JsonElement, bool> until, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow() + WaitLimit;
        while (true)
        {
            var status = await StatusAsync(runId);
            if (until(status))
            {
                return status;
            }

            if (Terminal(status))
            {
                Assert.Fail($"the run ended before {what}: {status}");
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                Assert.Fail($"no {what} within {WaitLimit.TotalSeconds} s: {status}");
            }

            await Task.Delay(150, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds (bounded).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? limit = null)
    {
        var deadline = TimeProvider.System.GetUtcNow() + (limit ?? WaitLimit);
        while (!await condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                Assert.Fail($"no {what} within {(limit ?? WaitLimit).TotalSeconds} s");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// Starts a batch of <paramref name="tenants"/> as alice; returns its id and each tenant's member run id (the member
    /// runs are remembered, so what they leave is removed on dispose).
    /// </summary>
    public async Task<(string Id, IReadOnlyDictionary<string, string> Members)> StartBatchAsync(IReadOnlyList<Tenant> tenants, int parallelism)
    {
        using var response = await Alice.PostAsJsonAsync("/api/restore-batches", new
        {
            tenants = tenants.Select(t => t.Slug).ToArray(),
            restoreTime = RestoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            parallelism,
            reason = "bad migration deployed to several tenants",
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"batch start answered {(int)response.StatusCode}: {body}");
        var accepted = JsonDocument.Parse(body).RootElement;
        var members = accepted.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("tenant").GetString()!, m => m.GetProperty("runId").GetString()!, StringComparer.Ordinal);
        Assert.Equal(tenants.Select(t => t.Slug).Order(StringComparer.Ordinal), members.Keys.Order(StringComparer.Ordinal));
        _runs.AddRange(tenants.Select(t => (members[t.Slug], t)));
        return (accepted.GetProperty("id").GetString()!, members);
    }

    /// <summary>The batch's status from the API; every body is kept for the secret check.</summary>
    public async Task<JsonElement> BatchStatusAsync(string batchId)
    {
        using var response = await Alice.GetAsync($"/api/restore-batches/{batchId}");
        var body = await response.Content.ReadAsStringAsync();
        lock (_statuses)
        {
            _statuses.Add(body);
        }

        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"batch status answered {(int)response.StatusCode}: {body}\n{HostLogTail()}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>
    /// Polls the batch's status until <paramref name="until"/> holds (bounded; only statuses with a published line are
    /// offered); a batch that ends otherwise fails the test. Failures show the last status and the host's log tail.
    /// </summary>
    public async Task<JsonElement> WaitBatchAsync(string batchId, Func<JsonElement, bool> until, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow() + WaitLimit;
        while (true)
        {
            var status = await BatchStatusAsync(batchId);
            var published = status.TryGetProperty("customStatus", out var custom) && custom.ValueKind == JsonValueKind.Object;
            if (published && until(status))
            {
                return status;
            }

            if (Terminal(status))
            {
                Assert.Fail($"the batch ended before {what}: {status}\n{HostLogTail()}");
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                Assert.Fail($"no {what} within {WaitLimit.TotalSeconds} s: {status}\n{HostLogTail()}");
            }

            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Approves batch <paramref name="batchId"/> as bob (alice requested it: four eyes); returns how many members took the decision.</summary>
    public async Task<int> ApproveBatchAsync(string batchId)
    {
        using var response = await Bob.PostAsJsonAsync($"/api/restore-batches/{batchId}/approve", new { comment = "counts as expected" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"batch approve answered {(int)response.StatusCode}: {body}\n{HostLogTail()}");
        return JsonDocument.Parse(body).RootElement.GetProperty("accepted").GetInt32();
    }

    /// <summary>The run ids of <paramref name="tenant"/>'s runs, as the runs list shows them.</summary>
    public async Task<IReadOnlyList<string>> RunsOfAsync(Tenant tenant)
    {
        using var response = await Alice.GetAsync($"/api/restores?tenant={tenant.Slug}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"runs list answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.EnumerateArray().Select(r => r.GetProperty("instanceId").GetString()!).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The last <paramref name="lines"/> lines each host process of this world wrote, for failure messages.</summary>
    public string HostLogTail(int lines = 40) =>
        string.Join("\n", _hosts.Select((h, i) => $"--- host process {i + 1}{(h.HasExited ? " (ended)" : string.Empty)}, last {lines} lines:\n" +
                                                  string.Join("\n", h.Output.Split('\n').TakeLast(lines))));

    /// <summary>Approves <paramref name="runId"/> as bob (alice requested it: four eyes).</summary>
    public async Task ApproveAsync(string runId)
    {
        using var response = await Bob.PostAsJsonAsync($"/api/restores/{runId}/approve", new { comment = "counts as expected" });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"approve answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public static bool AwaitingApproval(JsonElement s) =>
        s.TryGetProperty("customStatus", out var c) && c.ValueKind == JsonValueKind.Object && c.GetProperty("awaitingApproval").GetBoolean();

    public static bool Terminal(JsonElement s) => s.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated";

    /// <summary>The timeline step named <paramref name="name"/>, if the run has reached it.</summary>
    public static JsonElement? Step(JsonElement status, string name) =>
        status.TryGetProperty("customStatus", out var c) && c.ValueKind == JsonValueKind.Object
            ? c.GetProperty("steps").EnumerateArray().Where(s => s.GetProperty("name").GetString() == name).Select(s => (JsonElement?)s).LastOrDefault()
            : null;

    public static bool StepIs(JsonElement status, string name, string outcome) => Step(status, name) is { } step && step.GetProperty("outcome").GetString() == outcome;

    /// <summary>The run's row in <c>rcm_pitr.transfer_progress</c>: phase and bytes moved, or null before the transfer writes it.</summary>
    public async Task<(string Phase, long Bytes)?> TransferProgressAsync(string runId)
    {
        await using var connection = await _fx.Connector.OpenAsync(Live, Master, CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT phase, bytes_moved FROM rcm_pitr.transfer_progress WHERE run_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetInt64(1)) : null;
    }

    /// <summary>Whether a session is loading rows into <paramref name="database"/> on live right now (<c>pg_stat_progress_copy</c>).</summary>
    public async Task<bool> CopyingIntoAsync(string database) =>
        await LiveScalarAsync<long>("SELECT count(*) FROM pg_stat_progress_copy WHERE datname = $1 AND command = 'COPY FROM' AND bytes_processed > 0", database) > 0;

    /// <summary>The canonical database and every database derived from it on live, sorted.</summary>
    public async Task<IReadOnlyList<string>> DatabasesOfAsync(Tenant tenant)
    {
        await using var connection = await _fx.Connector.OpenMaintenanceAsync(Live, CancellationToken.None);
        return await TenantData.DatabasesOfAsync(connection, tenant.Names.Canonical);
    }

    /// <summary>Databases on live whose marker names <paramref name="runId"/>, or that carry the name the run creates its copy under first.</summary>
    public async Task<IReadOnlyList<string>> DatabasesOfRunAsync(string runId, Tenant tenant)
    {
        var temporary = TemporaryName(runId, tenant.Names.Restore(Stamp, runId));
        await using var connection = await _fx.Connector.OpenMaintenanceAsync(Live, CancellationToken.None);
        await using var command = new NpgsqlCommand(
            "SELECT datname FROM pg_database WHERE datname = $2 OR shobj_description(oid, 'pg_database') LIKE '% run=' || $1 || ' %' ORDER BY 1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = temporary });
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>
    /// The name a run first creates its copy under (<c>rcmtmp_</c> + 24 hex of SHA-256("run/target")), as
    /// <c>RestoreTargets.TemporaryName</c> computes it: a crash between its creation and its rename leaves this name.
    /// </summary>
    public static string TemporaryName(string runId, string target) =>
        "rcmtmp_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(runId + "/" + target)))[..24];

    public Task<string?> CommentAsync(string database) =>
        LiveScalarAsync<string?>("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", database);

    public Task<bool> AllowsConnectionsAsync(string database) =>
        LiveScalarAsync<bool>("SELECT datallowconn FROM pg_database WHERE datname = $1", database);

    public async Task<T> LiveScalarAsync<T>(string sql, params object[] args)
    {
        await using var connection = await _fx.Connector.OpenMaintenanceAsync(Live, CancellationToken.None);
        var value = await TwoClusterFixture.Command(connection, sql, args).ExecuteScalarAsync();
        return value is DBNull or null ? default! : (T)value;
    }

    public async Task ExecMasterAsync(string sql, params object[] args) => await _fx.ExecAsync(Live, Master, sql, args);

    public Task<T> MasterScalarAsync<T>(string sql, params object[] args) => _fx.ScalarAsync<T>(Live, Master, sql, args);

    /// <summary>Opens a session on live's maintenance database (for a test's own blocking transaction).</summary>
    public Task<NpgsqlConnection> OpenLiveMaintenanceAsync() => _fx.Connector.OpenMaintenanceAsync(Live, CancellationToken.None);

    /// <summary>Opens a session on the master database.</summary>
    public Task<NpgsqlConnection> OpenMasterAsync() => _fx.Connector.OpenAsync(Live, Master, CancellationToken.None);

    /// <summary>Opens a session on the engine's state database.</summary>
    public Task<NpgsqlConnection> OpenStateAsync() => _fx.Connector.OpenAsync(Live, State, CancellationToken.None);

    /// <summary>Waits until the server session <paramref name="pid"/> (a killed host's) has ended.</summary>
    public Task SessionEndedAsync(int pid) =>
        UntilAsync(async () => await LiveScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid) == 0, $"end of session {pid}", TimeSpan.FromSeconds(60));

    /// <summary>Password files (<c>.pgpass*</c>) anywhere under the scratch folder or the password-file folder.</summary>
    public IReadOnlyList<string> PasswordFilesLeft() =>
        new[] { Scratch, PasswordFiles }.Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, ".pgpass*", SearchOption.AllDirectories)).ToList();

    /// <summary>
    /// Where an admin password shows in the hosts' output or in a status body: whole, or any long run of its letters and
    /// digits (so an escaped or quoted rendering of it is found too).
    /// </summary>
    public async Task<IReadOnlyList<string>> SecretsShownAsync()
    {
        var secrets = new List<string>();
        foreach (var reference in new[] { TwoClusterFixture.LiveSecretRef, TwoClusterFixture.PitrSecretRef })
        {
            var value = await _fx.Secrets.GetSecretAsync(reference, CancellationToken.None);
            secrets.Add(value);
            secrets.AddRange(System.Text.RegularExpressions.Regex.Matches(value, "[A-Za-z0-9]{16,}").Select(m => m.Value));
        }

        List<string> statuses;
        lock (_statuses)
        {
            statuses = [.. _statuses];
        }

        var places = _hosts.Select((h, i) => ($"output of host process {i + 1}", h.Output)).Concat(statuses.Select((s, i) => ($"status body {i + 1}", s)));
        return places.Where(p => secrets.Any(s => p.Item2.Contains(s, StringComparison.Ordinal))).Select(p => p.Item1).ToList();
    }

    /// <summary>How many status bodies were read (the secret check covered them all).</summary>
    public int StatusBodiesRead
    {
        get
        {
            lock (_statuses)
            {
                return _statuses.Count;
            }
        }
    }

    /// <summary>The programs a killed host had started that still run.</summary>
    public IReadOnlyList<int> OrphansStillRunning() => _hosts.SelectMany(h => h.OrphansStillRunning()).ToList();

    public async ValueTask DisposeAsync()
    {
        Alice?.Dispose();
        Bob?.Dispose();
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await using (var live = await _fx.Connector.OpenMaintenanceAsync(Live, CancellationToken.None))
        {
            var catalog = new ServerCatalog(live);
            foreach (var database in _databases)
            {
                foreach (var name in await TenantData.DatabasesOfAsync(live, database))
                {
                    await catalog.DropIfExistsAsync(name, CancellationToken.None);
                }
            }

            foreach (var (runId, tenant) in _runs)
            {
                foreach (var name in await DatabasesOfRunAsync(runId, tenant))
                {
                    await catalog.DropIfExistsAsync(name, CancellationToken.None);
                }
            }

            await catalog.DropIfExistsAsync(Master, CancellationToken.None);
            await catalog.DropIfExistsAsync(State, CancellationToken.None);
        }

        await using (var pitr = await _fx.Connector.OpenMaintenanceAsync(Pitr, CancellationToken.None))
        {
            foreach (var database in _databases)
            {
                await new ServerCatalog(pitr).DropIfExistsAsync(database, CancellationToken.None);
            }
        }

        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    /// <summary>
    /// The host's configuration, as <c>tests/RcmPitr.Host.Tests/HostRun.cs</c> configures the in-memory host: the
    /// shared clusters, a <c>PreRestored</c> provisioner on "pitr", a short cache wait, a fast engine poll and a short
    /// activity lease (a killed host's activity is delivered again within seconds), progress written often.
    /// </summary>
    private Dictionary<string, string?> Settings(IReadOnlyDictionary<string, string?> overrides)
    {
        var settings = HostSettings.Common(_fx, Master, State, Scratch);
        settings["RcmPitr:DataMover:ProgressInterval"] = "00:00:00.250";
        settings["RcmPitr:DataMover:TransferJobs"] = "2";
        // Where password files go (a private folder per test, so the test can see none is left behind).
        settings["RcmPitr:Connections:PasswordFileDirectory"] = PasswordFiles;
        settings["RcmPitr:Connections:ApplicationName"] = ApplicationName;
        settings["RcmPitr:Engine:ActivityLease"] = "00:00:06";
        settings["RcmPitr:Restore:ApprovalTimeout"] = "00:30:00";
        settings["RcmPitr:Restore:RetryAttempts"] = "3";
        settings["Logging:LogLevel:Default"] = "Information";
        AddPrincipals(settings);
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Who may call the API: alice requests, bob approves. The one place that says how principals are configured.</summary>
    private static void AddPrincipals(Dictionary<string, string?> settings)
    {
        settings[$"RcmPitr:ApiKeys:{AliceKey}"] = "alice";
        settings[$"RcmPitr:ApiKeys:{BobKey}"] = "bob";
    }

    /// <summary>Configuration keys (<c>A:B:C</c>) as the nested JSON file the host reads.</summary>
    private static string ToJson(Dictionary<string, string?> settings)
    {
        var root = new JsonObject();
        foreach (var (key, value) in settings)
        {
            var parts = key.Split(':');
            var node = root;
            foreach (var part in parts[..^1])
            {
                if (node[part] is not JsonObject child)
                {
                    node[part] = child = new JsonObject();
                }

                node = child;
            }

            node[parts[^1]] = value;
        }

        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>A tenant of the test: slug, id and database names.</summary>
    public sealed record Tenant(string Slug, Guid Id, TenantDatabaseNames Names)
    {
        public string Database => Names.Canonical;
    }
}
