using Npgsql;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Testing;

namespace RcmPitr.Scenarios.Tests.Engines;

/// <summary>One throwaway cluster for the embedded engine's scenarios; each scenario gets a database of its own.</summary>
public sealed class ScenarioClusterFixture : IAsyncLifetime
{
    private readonly string _root = TestClusters.NewRoot();
    private readonly ProcessRunner _processes = new();
    private LocalCluster? _cluster;
    private string? _missing;

    public async ValueTask InitializeAsync()
    {
        var tools = new PgToolLocator(new PgToolOptions(), _processes);
        _missing = await TestClusters.MissingProgramsAsync(tools);
        if (_missing is null)
        {
            _cluster = await TestClusters.StartAsync(_root, "pg-scenarios", "scenarios-" + Guid.NewGuid().ToString("N"), tools, _processes);
        }
    }

    /// <summary>The connection string of a new, empty database (skips locally / fails on CI without PostgreSQL).</summary>
    public async Task<string> NewDatabaseAsync()
    {
        if (_cluster is null)
        {
            Prerequisites.Missing(_missing ?? "the scenario cluster did not start");
        }

        var name = "scenario_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = NpgsqlDataSource.Create(ConnectionString("postgres")))
        await using (var create = admin.CreateCommand($"CREATE DATABASE {name}"))
        {
            await create.ExecuteNonQueryAsync();
        }

        return ConnectionString(name);
    }

    private string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = _cluster!.Host,
        Port = _cluster.Port,
        Username = _cluster.Options.SuperUser,
        Password = _cluster.Options.Password,
        Database = database,
    }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
