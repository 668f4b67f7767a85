using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RcmPitr.Engine.Hosting;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Testing;

namespace RcmPitr.Engine.Tests;

/// <summary>One throwaway cluster for the engine tests; each test gets a database of its own.</summary>
public sealed class EngineClusterFixture : IAsyncLifetime
{
    private readonly string _root = TestClusters.NewRoot();
    private readonly ProcessRunner _processes = new();
    private string? _missing;

    public LocalCluster Cluster { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var tools = new PgToolLocator(new PgToolOptions(), _processes);
        _missing = await TestClusters.MissingProgramsAsync(tools);
        if (_missing is null)
        {
            Cluster = await TestClusters.StartAsync(_root, "pg-engine", "engine-" + Guid.NewGuid().ToString("N"), tools, _processes);
        }
    }

    /// <summary>A new database and a data source for it (skips locally / fails on CI without PostgreSQL).</summary>
    public async Task<EngineDatabase> NewDatabaseAsync()
    {
        if (_missing is not null)
        {
            Prerequisites.Missing(_missing);
        }

        var name = "engine_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = NpgsqlDataSource.Create(ConnectionString("postgres")))
        await using (var create = admin.CreateCommand($"CREATE DATABASE {name}"))
        {
            await create.ExecuteNonQueryAsync();
        }

        return new EngineDatabase(ConnectionString(name));
    }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = Cluster.Host,
        Port = Cluster.Port,
        Username = Cluster.Options.SuperUser,
        Password = Cluster.Options.Password,
        Database = database,
    }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}

/// <summary>A test's engine database, with helpers to run engines on it.</summary>
public sealed class EngineDatabase(string connectionString) : IAsyncDisposable
{
    private readonly List<DurableEngine> _engines = [];

    public string ConnectionString { get; } = connectionString;
    public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(connectionString);

    public static EngineOptions FastOptions => new() { PollInterval = TimeSpan.FromMilliseconds(100), ActivityLease = TimeSpan.FromSeconds(3) };

    public async Task<DurableEngine> StartEngineAsync(DurableRegistry registry, EngineOptions? options = null)
    {
        var engine = new DurableEngine(DataSource, registry, options ?? FastOptions, TimeProvider.System, NullLoggerFactory.Instance);
        await engine.StartAsync(CancellationToken.None);
        _engines.Add(engine);
        return engine;
    }

    public async Task<long> CountAsync(string sql, params object[] args)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }

        await DataSource.DisposeAsync();
    }
}
