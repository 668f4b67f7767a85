using System.Runtime.Versioning;
using Npgsql;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;
using Xunit;

namespace RcmPitr.Testing;

/// <summary>
/// Two throwaway clusters for a test assembly: "live" (the tenant server, also hosting per-test master and
/// engine databases) and "pitr" (standing in for the point-in-time restored server). Passwords live in a
/// local secret store, as in production they live in Key Vault. Removed at the end, pass or fail.
/// </summary>
[SupportedOSPlatform("linux")]
public abstract class TwoClusterFixture : IAsyncLifetime
{
    /// <summary>Secret reference of the live cluster's admin password.</summary>
    public const string LiveSecretRef = "pg-live-admin";

    /// <summary>Secret reference of the pitr cluster's admin password.</summary>
    public const string PitrSecretRef = "pg-pitr-admin";

    private string? _missing;

    /// <summary>The folder everything lives in.</summary>
    public string Root { get; } = TestClusters.NewRoot();

    /// <summary>Runs the PostgreSQL programs.</summary>
    public IProcessRunner Processes { get; } = new ProcessRunner();

    /// <summary>Finds the PostgreSQL programs.</summary>
    public PgToolLocator Tools { get; private set; } = null!;

    /// <summary>The live cluster.</summary>
    public LocalCluster Live { get; private set; } = null!;

    /// <summary>The stand-in for the restored server.</summary>
    public LocalCluster Pitr { get; private set; } = null!;

    /// <summary>Holds both admin passwords.</summary>
    public LocalSecretStore Secrets { get; private set; } = null!;

    /// <summary>Connections to both clusters.</summary>
    public PgConnector Connector { get; private set; } = null!;

    /// <summary>The live cluster as the operations see it.</summary>
    public DbServerInfo LiveServer => Live.ToServerInfo(LiveSecretRef);

    /// <summary>The pitr cluster as the operations see it.</summary>
    public DbServerInfo PitrServer => Pitr.ToServerInfo(PitrSecretRef);

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        Tools = new PgToolLocator(new PgToolOptions(), Processes);
        _missing = await TestClusters.MissingProgramsAsync(Tools);
        if (_missing is not null)
        {
            return;
        }

        Directory.CreateDirectory(Root);
        Secrets = new LocalSecretStore(Path.Combine(Root, "secrets.json"));
        Connector = new PgConnector(Secrets, new PgConnectionOptions());
        // Characters pgpass and SQL quoting must escape, so those paths are exercised too.
        var livePassword = "live:pw\\" + Guid.NewGuid().ToString("N");
        var pitrPassword = "pitr'pw" + Guid.NewGuid().ToString("N");
        await Secrets.SetSecretAsync(LiveSecretRef, livePassword, CancellationToken.None);
        await Secrets.SetSecretAsync(PitrSecretRef, pitrPassword, CancellationToken.None);
        var clusters = await Task.WhenAll(
            TestClusters.StartAsync(Root, "pg-live", livePassword, Tools, Processes),
            TestClusters.StartAsync(Root, "pg-pitr", pitrPassword, Tools, Processes));
        (Live, Pitr) = (clusters[0], clusters[1]);
    }

    /// <summary>Skips (locally) or fails (CI) when PostgreSQL is not installed.</summary>
    public void RequirePostgres()
    {
        if (_missing is not null)
        {
            Prerequisites.Missing(_missing);
        }
    }

    /// <summary>Runs a statement.</summary>
    public async Task ExecAsync(DbServerInfo server, string database, string sql, params object[] args)
    {
        await using var connection = await Connector.OpenAsync(server, database, CancellationToken.None);
        await Command(connection, sql, args).ExecuteNonQueryAsync();
    }

    /// <summary>Runs a query returning one value.</summary>
    public async Task<T> ScalarAsync<T>(DbServerInfo server, string database, string sql, params object[] args)
    {
        await using var connection = await Connector.OpenAsync(server, database, CancellationToken.None);
        return (T)(await Command(connection, sql, args).ExecuteScalarAsync())!;
    }

    /// <summary>A command with positional parameters.</summary>
    public static NpgsqlCommand Command(NpgsqlConnection connection, string sql, object[] args)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var arg in args ?? [])
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        return command;
    }

    /// <inheritdoc />
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

        GC.SuppressFinalize(this);
    }
}
