using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Testing;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Tests.Fixtures;

/// <summary>
/// One test's world: its own master database on the live cluster, its own tenants (unique slugs), its
/// own scratch folder, and the operations wired to them. Disposing drops everything it created.
/// </summary>
public sealed class Scenario : IAsyncDisposable
{
    private readonly ClusterFixture _fx;
    private readonly List<string> _slugs = [];
    private readonly List<string> _roles = [];
    private readonly string _masterName;

    private Scenario(ClusterFixture fx, string id, IProcessRunner processes, PgConnectionOptions? connection)
    {
        _fx = fx;
        Id = id;
        _masterName = "master_" + id;
        Processes = processes;
        Connector = connection is null ? fx.Connector : new PgConnector(fx.Secrets, connection);
        Mover = new DataMoverOptions { ScratchDirectory = Path.Combine(fx.Root, "scratch-" + id) };
    }

    public string Id { get; }
    public IProcessRunner Processes { get; }
    public PgConnector Connector { get; }
    public DataMoverOptions Mover { get; }
    public ControlPlaneDatabase Master { get; private set; } = null!;
    public DbServerInfo Live => _fx.LiveServer;
    public DbServerInfo Pitr => _fx.PitrServer;
    public ClusterFixture Fixture => _fx;

    /// <summary>What the operations of this scenario logged.</summary>
    public CapturedLogs Logs { get; } = new();
    public string RunId => "run-" + Id;

    public TenantResolver Resolver => new(Master, _fx.Secrets);
    public TenantStatusChanger StatusChanger => new(Master);
    public AuditWriter Audit => new(Master);
    public TenantCacheInvalidator Cache => new(Master);
    public RestorePreflight Preflight => new(Connector, _fx.Tools, Mover);
    public TenantDumper Dumper => new(Connector, new PgToolLocator(new PgToolOptions(), Processes), Processes, Mover, Logs.For<TenantDumper>());
    public RestoreDatabaseLoader Loader => new(Connector, new PgToolLocator(new PgToolOptions(), Processes), Processes, Mover, Logs.For<RestoreDatabaseLoader>());
    public TenantTransfer Transfer => new(
        Connector,
        new RcmPitr.Postgres.Movers.TenantMover(Connector, new PgToolLocator(new PgToolOptions(), Processes), Processes, Mover),
        new TransferProgressStore(Master),
        Mover,
        TimeProvider.System,
        Logs.For<TenantTransfer>());

    /// <summary>The post-cutover smoke probe's settings (off until a test sets a role).</summary>
    public SmokeProbeOptions SmokeProbe { get; } = new();
    public ParityProbe Parity => new(Connector, new SmokeProbe(_fx.Secrets, Connector.Options, SmokeProbe));
    public SwapCutover Swap => new(Connector, Logs.For<SwapCutover>());
    public FlipRefCutover Flip => new(Master, Connector, _fx.Secrets);
    public DerivedDatabaseDropper Dropper => new(Connector, Logs.For<DerivedDatabaseDropper>());

    public static async Task<Scenario> StartAsync(ClusterFixture fx, IProcessRunner? processes = null, PgConnectionOptions? connection = null)
    {
        fx.RequirePostgres();
        var scenario = new Scenario(fx, Guid.NewGuid().ToString("N")[..10], processes ?? fx.Processes, connection);
        await scenario.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {PgQuote.Identifier(scenario._masterName)}");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = fx.Live.Host,
            Port = fx.Live.Port,
            Username = fx.Live.Options.SuperUser,
            Password = fx.Live.Options.Password,
            Database = scenario._masterName,
            Pooling = false,
        };
        scenario.Master = new ControlPlaneDatabase(NpgsqlDataSource.Create(builder.ConnectionString));
        await scenario.Master.MigrateAsync(CancellationToken.None);
        await scenario.ExecMasterAsync(
            "INSERT INTO identity.db_server (name, fqdn, port, admin_user, admin_secret_ref, major_version) VALUES ($1, $2, $3, $4, $5, $6)",
            fx.LiveServer.Name, fx.LiveServer.Fqdn, fx.LiveServer.Port, fx.LiveServer.AdminUser, fx.LiveServer.AdminSecretRef, fx.LiveServer.MajorVersion);
        return scenario;
    }

    /// <summary>A fresh, unique slug (optionally hyphenated) owned by this scenario.</summary>
    public string NewSlug(string prefix = "t")
    {
        var slug = $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
        _slugs.Add(slug);
        return slug;
    }

    /// <summary>
    /// A LOGIN role unique to this scenario, created on both clusters (roles are cluster-wide, and the restored server
    /// has the live server's roles); dropped on disposal, after the databases whose objects it owns.
    /// </summary>
    public async Task<string> AddLoginRoleAsync(string prefix, string password)
    {
        var role = $"{prefix}_{Id}";
        _roles.Add(role);
        foreach (var server in new[] { Live, Pitr })
        {
            await ExecAsync(server, "postgres", $"CREATE ROLE {PgQuote.Identifier(role)} LOGIN PASSWORD {PgQuote.Literal(password)}");
        }

        return role;
    }

    /// <summary>
    /// Registers a tenant in master and creates its database with canary tables: on live with
    /// <paramref name="liveMembers"/> members and, when given, on the pitr server with
    /// <paramref name="pitrMembers"/> (the state "at T").
    /// </summary>
    public async Task<TenantInfo> AddTenantAsync(string slug, int liveMembers, int? pitrMembers = null, string status = "active")
    {
        if (!_slugs.Contains(slug))
        {
            _slugs.Add(slug);
        }

        var database = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Canonical;
        await CreateTenantDatabaseAsync(Live, database, liveMembers, "live");
        if (pitrMembers is { } members)
        {
            await CreateTenantDatabaseAsync(Pitr, database, members, "pitr");
        }

        var id = Guid.NewGuid();
        var configRef = $"tenant-db-{slug}";
        await _fx.Secrets.SetSecretAsync(configRef, $"Host={Live.Fqdn};Port={Live.Port};Database={database};Username=app_{slug.Replace('-', '_')};Password=app-secret", CancellationToken.None);
        await ExecMasterAsync(
            "INSERT INTO identity.tenant (id, slug, status, db_server, db_config_ref) VALUES ($1, $2, $3, $4, $5)",
            id, slug, status, Live.Name, configRef);
        return await Resolver.ResolveAsync(new ResolveTenantInput(slug, RequireActive: false), CancellationToken.None);
    }

    public async Task CreateTenantDatabaseAsync(DbServerInfo server, string database, int members, string origin)
    {
        await using var maintenance = await Connector.OpenMaintenanceAsync(server, CancellationToken.None);
        await TenantData.CreateAsync(maintenance, db => Connector.OpenAsync(server, db, CancellationToken.None), database, members, origin);
    }

    public async Task ExecAsync(DbServerInfo server, string database, string sql, params object[] args)
    {
        await using var connection = await Connector.OpenAsync(server, database, CancellationToken.None);
        await Command(connection, sql, args).ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(DbServerInfo server, string database, string sql, params object[] args)
    {
        await using var connection = await Connector.OpenAsync(server, database, CancellationToken.None);
        return (T)(await Command(connection, sql, args).ExecuteScalarAsync())!;
    }

    public async Task ExecMasterAsync(string sql, params object[] args)
    {
        await using var connection = await Master.OpenAsync(CancellationToken.None);
        await Command(connection, sql, args).ExecuteNonQueryAsync();
    }

    public async Task<T> MasterScalarAsync<T>(string sql, params object[] args)
    {
        await using var connection = await Master.OpenAsync(CancellationToken.None);
        return (T)(await Command(connection, sql, args).ExecuteScalarAsync())!;
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, object[] args) => TwoClusterFixture.Command(connection, sql, args);

    /// <summary>Names of the databases on <paramref name="server"/> that belong to <paramref name="slug"/>, sorted.</summary>
    public async Task<IReadOnlyList<string>> DatabasesOfAsync(DbServerInfo server, string slug)
    {
        await using var connection = await Connector.OpenMaintenanceAsync(server, CancellationToken.None);
        return await TenantData.DatabasesOfAsync(connection, TenantDatabaseNames.For(TenantSlug.Parse(slug)).Canonical);
    }

    /// <summary>A content fingerprint of a tenant database's canary tables.</summary>
    public async Task<string> FingerprintAsync(DbServerInfo server, string database)
    {
        await using var connection = await Connector.OpenAsync(server, database, CancellationToken.None);
        return await TenantData.FingerprintAsync(connection);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var slug in _slugs)
        {
            foreach (var server in new[] { Live, Pitr })
            {
                foreach (var database in await DatabasesOfAsync(server, slug))
                {
                    await using var connection = await Connector.OpenMaintenanceAsync(server, CancellationToken.None);
                    await new ServerCatalog(connection).DropIfExistsAsync(database, CancellationToken.None);
                }
            }
        }

        foreach (var role in _roles)
        {
            foreach (var server in new[] { Live, Pitr })
            {
                await ExecAsync(server, "postgres", $"DROP ROLE IF EXISTS {PgQuote.Identifier(role)}");
            }
        }

        if (Master is not null)
        {
            await Master.DisposeAsync();
            await using var connection = await Connector.OpenMaintenanceAsync(Live, CancellationToken.None);
            await new ServerCatalog(connection).DropIfExistsAsync(_masterName, CancellationToken.None);
        }

        if (Directory.Exists(Mover.ScratchDirectory))
        {
            Directory.Delete(Mover.ScratchDirectory, recursive: true);
        }
    }
}
