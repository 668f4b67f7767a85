using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Local;

/// <summary>
/// A whole RcmPitr world on one machine: a "live" cluster with WAL archiving and base backups (so it can be
/// restored to any second since its oldest backup), the master database, the engine's state database, two
/// sample tenants, API keys for three principals, and the host configuration pointing at all of it.
/// </summary>
public sealed class LocalEnvironment(LocalLayout layout, IProcessRunner processes, TimeProvider time)
{
    /// <summary>The live server's name in the control plane.</summary>
    public const string LiveServerName = "pg-local";

    /// <summary>The secret reference of the live cluster's admin password.</summary>
    public const string AdminSecretRef = "pg-local-admin";

    /// <summary>
    /// The principals that get API keys: alice and bob request and approve (four eyes needs two of them), carol is the
    /// operator (cancels any run, overrides a rollback's approval).
    /// </summary>
    public static IReadOnlyList<string> Principals { get; } = ["alice", "bob", "carol"];

    private const string AdminUser = "rcm_admin";
    private const string MasterDatabase = "rcm_master";
    private const string StateDatabase = "rcm_pitr_state";

    /// <summary>The layout.</summary>
    public LocalLayout Layout => layout;

    /// <summary>The secret store of the environment.</summary>
    public LocalSecretStore Secrets { get; } = new(layout.SecretsFile);

    /// <summary>Tools for the environment's clusters.</summary>
    public PgToolLocator Tools { get; } = new(new PgToolOptions(), processes);

    /// <summary>Connections to the environment's clusters.</summary>
    public PgConnector Connector => new(Secrets, new PgConnectionOptions());

    /// <summary>Base backups of the live cluster.</summary>
    public BaseBackups Backups => new(layout, Connector, Tools, processes, time);

    /// <summary>The provisioner restoring the live cluster to a point in time.</summary>
    public LocalWalProvisioner Provisioner => new(layout, Backups, Connector, Tools, processes, time);

    /// <summary>The live server as the operations see it.</summary>
    public DbServerInfo LiveServer(LocalState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new DbServerInfo(state.LiveServerName, "127.0.0.1", state.LivePort, state.AdminUser, state.AdminSecretRef, state.MajorVersion);
    }

    /// <summary>
    /// Creates the environment if it does not exist, or starts what is stopped if it does. Idempotent. Returns
    /// the state and whether it was created now.
    /// </summary>
    public async Task<(LocalState State, bool Created)> UpAsync(TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        LocalHomeChecks.RequireShellSafe(layout.Home);
        if (LocalState.Read(layout) is { } existing)
        {
            var live = LiveCluster(existing);
            if (!await live.IsRunningAsync(cancellationToken))
            {
                await progress.WriteLineAsync($"starting the live cluster on port {existing.LivePort}");
                await live.StartAsync(cancellationToken);
            }

            return (existing, false);
        }

        if (Directory.Exists(layout.Home) && Directory.EnumerateFileSystemEntries(layout.Home).Any())
        {
            throw new InvalidOperationException($"{layout.Home} exists but holds no local environment (no env.json); remove it or choose another --home");
        }

        await LocalHomeChecks.RequireServiceAccountCanReachAsync(layout.Home, processes, cancellationToken);

        return (await CreateAsync(progress, cancellationToken), true);
    }

    /// <summary>Stops the live cluster and every restored server; with <paramref name="purge"/>, removes the home folder.</summary>
    public async Task DownAsync(bool purge, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var state = LocalState.Read(layout);
        foreach (var server in Provisioner.List())
        {
            await progress.WriteLineAsync($"stopping restored server {server.Name}");
            try
            {
                await Provisioner.StopAsync(server, cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                // Already stopped (pg_ctl says so); keep going so everything else still stops.
                await progress.WriteLineAsync($"  {server.Name}: {e.Message}");
            }
        }

        if (state is not null)
        {
            var live = LiveCluster(state);
            if (await live.IsRunningAsync(cancellationToken))
            {
                await progress.WriteLineAsync("stopping the live cluster");
                await live.StopAsync(cancellationToken);
            }
        }

        if (purge && Directory.Exists(layout.Home))
        {
            await progress.WriteLineAsync($"removing {layout.Home}");
            Directory.Delete(layout.Home, recursive: true);
        }
    }

    /// <summary>Takes a base backup now and prunes those older than <paramref name="retention"/> (the newest is always kept).</summary>
    public async Task<(BaseBackupInfo Taken, PruneResult Pruned)> BackupAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        var state = LocalState.Read(layout) ?? throw new InvalidOperationException("No local environment here; run 'rcm-pitr local up' first.");
        var taken = await Backups.TakeAsync(LiveServer(state), cancellationToken);
        var pruned = await Backups.PruneAsync(time.GetUtcNow() - retention, state.MajorVersion, cancellationToken);
        return (taken, pruned);
    }

    /// <summary>Everything a script needs to drive the environment.</summary>
    public async Task<LocalStatus> StatusAsync(CancellationToken cancellationToken)
    {
        var state = LocalState.Read(layout) ?? throw new InvalidOperationException($"No local environment in {layout.Home}; run 'rcm-pitr local up'.");
        var running = await LiveCluster(state).IsRunningAsync(cancellationToken);
        var keys = state.Principals.ToDictionary(p => p, p => File.Exists(layout.KeyFile(p)) ? File.ReadAllText(layout.KeyFile(p)).Trim() : string.Empty);
        return new LocalStatus(
            layout.Home,
            running,
            "127.0.0.1",
            state.LivePort,
            state.AdminUser,
            layout.SecretsFile,
            state.AdminSecretRef,
            state.MasterDatabase,
            state.StateDatabase,
            SampleTenants.Default.Select(t => TenantDatabaseNames.For(TenantSlug.Parse(t.Slug)).Canonical).ToList(),
            layout.WalArchive,
            layout.BackupsDirectory,
            Backups.List(),
            Backups.EarliestRestorableTime,
            Provisioner.List().Select(s => $"{s.Name} (port {s.Port}, restored to {s.RestoreTime:O})").ToList(),
            state.ApiUrl,
            layout.HostConfig,
            keys);
    }

    /// <summary>The live cluster of <paramref name="state"/>.</summary>
    public LocalCluster LiveCluster(LocalState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return LocalCluster.Existing(
            new LocalClusterOptions { RootDirectory = layout.LiveDirectory, Name = state.LiveServerName, SuperUser = state.AdminUser, Password = string.Empty },
            state.BinDirectory, state.MajorVersion, state.LivePort, processes);
    }

    private async Task<LocalState> CreateAsync(TextWriter progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(layout.Home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // The server processes (postgres user when root) must reach folders below home.
        File.SetUnixFileMode(layout.Home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        foreach (var folder in new[] { layout.BackupsDirectory, layout.ServersDirectory, layout.ScratchDirectory, layout.KeysDirectory })
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        File.SetUnixFileMode(layout.ServersDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(layout.BackupsDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(layout.WalArchive);
        await LocalCluster.GiveToServiceAccountAsync(processes, layout.WalArchive, cancellationToken);

        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await Secrets.SetSecretAsync(AdminSecretRef, password, cancellationToken);
        await progress.WriteLineAsync("creating the live cluster (WAL archiving on)");
        var live = await LocalCluster.CreateAsync(
            new LocalClusterOptions
            {
                RootDirectory = layout.LiveDirectory,
                Name = LiveServerName,
                SuperUser = AdminUser,
                Password = password,
                Settings = new Dictionary<string, string>
                {
                    ["wal_level"] = "replica",
                    ["archive_mode"] = "on",
                    ["archive_command"] = $"'test ! -f \"{layout.WalArchive}/%f\" && cp \"%p\" \"{layout.WalArchive}/%f\"'",
                    ["archive_timeout"] = "60",
                    ["max_wal_senders"] = "5",
                },
            },
            Tools, processes, cancellationToken);

        var state = new LocalState(LiveServerName, live.Port, AdminUser, AdminSecretRef, live.MajorVersion, live.BinDirectory,
            MasterDatabase, StateDatabase, LocalCluster.FreeLoopbackPort(), Principals, time.GetUtcNow());
        var server = LiveServer(state);
        await CreateDatabasesAsync(state, server, progress, cancellationToken);
        await WriteKeysAndConfigAsync(state, cancellationToken);
        state.Write(layout);

        await progress.WriteLineAsync("taking the initial base backup");
        await Backups.TakeAsync(server, cancellationToken);
        return state;
    }

    private async Task CreateDatabasesAsync(LocalState state, DbServerInfo server, TextWriter progress, CancellationToken cancellationToken)
    {
        var connector = Connector;
        await using (var maintenance = await connector.OpenMaintenanceAsync(server, cancellationToken))
        {
            foreach (var database in new[] { state.MasterDatabase, state.StateDatabase })
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE {PgQuote.Identifier(database)}", maintenance);
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await using var master = await connector.OpenAsync(server, state.MasterDatabase, cancellationToken);
        await SchemaMigrator.MigrateAsync(master, EmbeddedSchema.Master, cancellationToken);
        await using (var register = new NpgsqlCommand(
            "INSERT INTO identity.db_server (name, fqdn, port, admin_user, admin_secret_ref, major_version) VALUES ($1, $2, $3, $4, $5, $6)", master))
        {
            foreach (var value in new object[] { server.Name, server.Fqdn, server.Port, server.AdminUser, server.AdminSecretRef, server.MajorVersion })
            {
                register.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            await register.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var (slug, members, claims) in SampleTenants.Default)
        {
            await AddTenantAsync(state, slug, members, claims, progress, cancellationToken);
        }
    }

    /// <summary>
    /// Adds a tenant to the live server: its canonical database seeded with <paramref name="members"/> members and
    /// <paramref name="claimLines"/> claim lines, its connection secret, and its row in the master (active).
    /// </summary>
    public async Task AddTenantAsync(LocalState state, string slug, int members, int claimLines, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(progress);
        var connector = Connector;
        var server = LiveServer(state);
        await progress.WriteLineAsync($"creating sample tenant {slug} ({members} members, {claimLines} claim lines)");
        var database = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Canonical;
        await using (var maintenance = await connector.OpenMaintenanceAsync(server, cancellationToken))
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {PgQuote.Identifier(database)}", maintenance))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var tenant = await connector.OpenAsync(server, database, cancellationToken))
        {
            await SampleTenants.SeedAsync(tenant, slug, members, claimLines, cancellationToken);
        }

        var configRef = $"tenant-db-{slug}";
        await Secrets.SetSecretAsync(configRef, $"Host=127.0.0.1;Port={server.Port.ToString(CultureInfo.InvariantCulture)};Database={database};Username={AdminUser}", cancellationToken);
        await using var master = await connector.OpenAsync(server, state.MasterDatabase, cancellationToken);
        await using var insert = new NpgsqlCommand("INSERT INTO identity.tenant (id, slug, db_server, db_config_ref) VALUES (gen_random_uuid(), $1, $2, $3)", master);
        insert.Parameters.Add(new NpgsqlParameter { Value = slug });
        insert.Parameters.Add(new NpgsqlParameter { Value = server.Name });
        insert.Parameters.Add(new NpgsqlParameter { Value = configRef });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task WriteKeysAndConfigAsync(LocalState state, CancellationToken cancellationToken)
    {
        // The configuration holds each key's SHA-256, never the key; the key itself is only in its 0600 file.
        var principals = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var principal in state.Principals)
        {
            var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            await WritePrivateFileAsync(layout.KeyFile(principal), key + "\n", cancellationToken);
            principals[principal] = new { KeySha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), Roles = RolesOf(principal) };
        }

        var config = new
        {
            RcmPitr = new
            {
                SecretsFile = layout.SecretsFile,
                MigrateControlPlane = true,
                ControlPlane = new { Host = "127.0.0.1", Port = state.LivePort, Database = state.MasterDatabase, Username = state.AdminUser, PasswordSecretRef = state.AdminSecretRef },
                StateDatabase = new { Host = "127.0.0.1", Port = state.LivePort, Database = state.StateDatabase, Username = state.AdminUser, PasswordSecretRef = state.AdminSecretRef },
                Principals = principals,
                Provisioner = new { Kind = "LocalWal", LocalHome = layout.Home },
                DataMover = new { ScratchDirectory = layout.ScratchDirectory },
                // A local restore is ready in seconds, not Azure's hour: poll often. The cache wait stays the runbook's 30 s.
                Restore = new { FirstPollInterval = "00:00:02", MaxPollInterval = "00:00:15" },
            },
            Urls = state.ApiUrl,
        };
        await WritePrivateFileAsync(layout.HostConfig, LocalState.Serialize(config), cancellationToken);
    }

    private static string[] RolesOf(string principal) => principal == "carol" ? ["operator"] : ["requester", "approver"];

    // Created 0600 in one step, and only if absent: no moment at the umask's mode, and never a file someone planted.
    private static async Task WritePrivateFileAsync(string path, string content, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        await using var file = new FileStream(path, options);
        await file.WriteAsync(Encoding.UTF8.GetBytes(content), cancellationToken);
        await file.FlushAsync(cancellationToken);
    }
}

/// <summary>The output of <c>rcm-pitr local status --json</c>.</summary>
public sealed record LocalStatus(
    string Home,
    bool Running,
    string Host,
    int Port,
    string User,
    string SecretsFile,
    string PasswordSecretRef,
    string MasterDatabase,
    string StateDatabase,
    IReadOnlyList<string> TenantDatabases,
    string WalArchive,
    string BackupsDirectory,
    IReadOnlyList<BaseBackupInfo> Backups,
    DateTimeOffset? EarliestRestorableTime,
    IReadOnlyList<string> RestoredServers,
    string ApiUrl,
    string HostConfig,
    IReadOnlyDictionary<string, string> ApiKeys);
