using Npgsql;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Testing;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Host.Tests;

/// <summary>
/// Two clusters for the host's end-to-end tests: "live" (master, engine state and tenant databases) and
/// "pitr" (the pre-restored server holding each tenant's state at T).
/// </summary>
public sealed class HostClusterFixture : IAsyncLifetime
{
    public const string LiveSecretRef = "pg-live-admin";
    public const string PitrSecretRef = "pg-pitr-admin";

    private readonly ProcessRunner _processes = new();
    private string? _missing;

    public string Root { get; } = TestClusters.NewRoot();
    public LocalCluster Live { get; private set; } = null!;
    public LocalCluster Pitr { get; private set; } = null!;
    public LocalSecretStore Secrets { get; private set; } = null!;
    public PgConnector Connector { get; private set; } = null!;
    public DbServerInfo LiveServer => Live.ToServerInfo(LiveSecretRef);
    public DbServerInfo PitrServer => Pitr.ToServerInfo(PitrSecretRef);

    public async ValueTask InitializeAsync()
    {
        var tools = new PgToolLocator(new PgToolOptions(), _processes);
        _missing = await TestClusters.MissingProgramsAsync(tools);
        if (_missing is not null)
        {
            return;
        }

        Directory.CreateDirectory(Root);
        Secrets = new LocalSecretStore(Path.Combine(Root, "secrets.json"));
        Connector = new PgConnector(Secrets, new PgConnectionOptions());
        var livePassword = "live-" + Guid.NewGuid().ToString("N");
        var pitrPassword = "pitr-" + Guid.NewGuid().ToString("N");
        await Secrets.SetSecretAsync(LiveSecretRef, livePassword, CancellationToken.None);
        await Secrets.SetSecretAsync(PitrSecretRef, pitrPassword, CancellationToken.None);
        var clusters = await Task.WhenAll(
            TestClusters.StartAsync(Root, "pg-live", livePassword, tools, _processes),
            TestClusters.StartAsync(Root, "pg-pitr", pitrPassword, tools, _processes));
        (Live, Pitr) = (clusters[0], clusters[1]);
    }

    public void RequirePostgres()
    {
        if (_missing is not null)
        {
            Prerequisites.Missing(_missing);
        }
    }

    public async Task ExecAsync(DbServerInfo server, string database, string sql, params object[] args)
    {
        await using var connection = await Connector.OpenAsync(server, database, CancellationToken.None);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(DbServerInfo server, string database, string sql, params object[] args)
    {
        await using var connection = await Connector.OpenAsync(server, database, CancellationToken.None);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        if (Live is not null)
        {
            await Live.DisposeAsync();
        }

        if (Pitr is not null)
        {
            await Pitr.DisposeAsync();
        }

        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
