using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Testing;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Tests.Fixtures;

/// <summary>
/// Two throwaway PostgreSQL clusters for the whole test assembly: "live" (the tenant server, which
/// also hosts each test's master database) and "pitr" (stands in for the point-in-time restored
/// server the tenant database is dumped from). Tests isolate themselves with unique databases
/// through <see cref="Scenario"/>. The clusters and their folder are removed at the end, pass or fail.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string LiveSecretRef = "pg-live-admin";
    public const string PitrSecretRef = "pg-pitr-admin";

    private readonly string _root = TestClusters.NewRoot();
    private string? _missing;

    public LocalCluster Live { get; private set; } = null!;
    public LocalCluster Pitr { get; private set; } = null!;
    public IProcessRunner Processes { get; } = new ProcessRunner();
    public PgToolLocator Tools { get; private set; } = null!;
    public LocalSecretStore Secrets { get; private set; } = null!;
    public string Root => _root;

    public DbServerInfo LiveServer => Live.ToServerInfo(LiveSecretRef);
    public DbServerInfo PitrServer => Pitr.ToServerInfo(PitrSecretRef);

    public async ValueTask InitializeAsync()
    {
        Tools = new PgToolLocator(new PgToolOptions(), Processes);
        _missing = await TestClusters.MissingProgramsAsync(Tools);
        if (_missing is not null)
        {
            return;
        }

        Directory.CreateDirectory(_root);
        Secrets = new LocalSecretStore(Path.Combine(_root, "secrets.json"));
        var livePassword = "live:pw\\" + Guid.NewGuid().ToString("N");
        var pitrPassword = "pitr'pw" + Guid.NewGuid().ToString("N");
        await Secrets.SetSecretAsync(LiveSecretRef, livePassword, CancellationToken.None);
        await Secrets.SetSecretAsync(PitrSecretRef, pitrPassword, CancellationToken.None);

        var clusters = await Task.WhenAll(
            TestClusters.StartAsync(_root, "pg-live", livePassword, Tools, Processes),
            TestClusters.StartAsync(_root, "pg-pitr", pitrPassword, Tools, Processes));
        Live = clusters[0];
        Pitr = clusters[1];
    }

    /// <summary>Skips (locally) or fails (CI) when PostgreSQL is not installed.</summary>
    public void RequirePostgres()
    {
        if (_missing is not null)
        {
            Prerequisites.Missing(_missing);
        }
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

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
