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
