using Npgsql;
using RcmPitr.Local;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Testing;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Tests.Provisioning;

/// <summary>
/// One local environment for a test class: a live cluster with WAL archiving and a base backup, so restored servers
/// are real point-in-time restores, and its master database behind a pooled data source, as in production. Each test
/// asks for its own restore second, so no two tests share a server.
/// </summary>
public sealed class LocalWalFixture : IAsyncLifetime
{
    private readonly string _root = TestClusters.NewRoot();
    private readonly Lock _gate = new();
    private DateTimeOffset _nextSecond;

    public LocalEnvironment Environment { get; private set; } = null!;
    public DbServerInfo Live { get; private set; } = null!;
    public ControlPlaneDatabase Master { get; private set; } = null!;
    public string? Missing { get; private set; }

    public async ValueTask InitializeAsync()
    {
        Missing = await TestClusters.MissingProgramsAsync(new PgToolLocator(new PgToolOptions(), new ProcessRunner()));
        if (Missing is not null)
        {
            return;
        }

        Environment = new LocalEnvironment(new LocalLayout(Path.Combine(_root, "home")), new ProcessRunner(), TimeProvider.System);
        var (state, _) = await Environment.UpAsync(TextWriter.Null, CancellationToken.None);
        Live = Environment.LiveServer(state);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Live.Fqdn,
            Port = Live.Port,
            Username = Live.AdminUser,
            Password = await Environment.Secrets.GetSecretAsync(Live.AdminSecretRef, CancellationToken.None),
            Database = state.MasterDatabase,
        };
        Master = new ControlPlaneDatabase(NpgsqlDataSource.Create(builder.ConnectionString));
        var earliest = Environment.Backups.EarliestRestorableTime!.Value;
        _nextSecond = new DateTimeOffset(earliest.UtcTicks - (earliest.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
    }

    public void RequireEnvironment()
    {
        if (Missing is not null)
        {
            Prerequisites.Missing(Missing);
        }
    }

    /// <summary>A whole second nobody else got, after the earliest restorable time and not in the future.</summary>
    public async Task<DateTimeOffset> NewRestoreSecondAsync()
    {
        DateTimeOffset second;
        lock (_gate)
        {
            second = _nextSecond;
            _nextSecond = _nextSecond.AddSeconds(1);
        }

        // Tests take seconds each, so the clock is normally well past; when it is not, wait for it (bounded) — for the
        // whole second, since tests ask for fractions of it too.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (TimeProvider.System.GetUtcNow() <= second.AddSeconds(1))
        {
            await Task.Delay(50, timeout.Token);
        }

        return second;
    }

    public async ValueTask DisposeAsync()
    {
        if (Master is not null)
        {
            await Master.DisposeAsync();
        }

        if (Environment is not null)
        {
            await Environment.DownAsync(purge: true, TextWriter.Null, CancellationToken.None);
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
