using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Local;

/// <summary>
/// Point-in-time restore of the local live cluster to a NEW server, as Azure restores a Flexible Server:
/// the newest base backup taken before T is copied to a new data directory, started on its own port with
/// <c>restore_command</c> reading the WAL archive, <c>recovery_target_time = T</c> and
/// <c>recovery_target_action = promote</c>. It is <c>Provisioning</c> while it recovers and <c>Ready</c> once it
/// accepts writes. Idempotent by server name.
/// </summary>
public sealed class LocalWalProvisioner(
    LocalLayout layout, BaseBackups backups, PgConnector connector, PgToolLocator tools, IProcessRunner processes, TimeProvider time) : IServerProvisioner
{
    private const string RecordFile = "server.json";

    /// <summary>What this provisioner remembers about a restored server.</summary>
    public sealed record RestoredServer(string Name, DateTimeOffset RestoreTime, int Port, string BackupName, string AdminUser, string AdminSecretRef, int MajorVersion, DateTimeOffset CreatedAt);

    /// <inheritdoc />
    public Task<DateTimeOffset> GetEarliestRestoreTimeAsync(DbServerInfo source, CancellationToken cancellationToken) =>
        Task.FromResult(backups.EarliestRestorableTime
                        ?? throw new InvalidOperationException("The local environment has no base backup yet; take one with 'rcm-pitr local backup'."));

    /// <inheritdoc />
    public async Task<ProvisionServerResult> ProvisionAsync(ProvisionServerInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = ServerNames.Require(input.ServerName, "serverName");
        var folder = Path.Combine(layout.ServersDirectory, name);
        if (Read(name) is { } existing)
        {
            if (existing.RestoreTime != input.RestoreTime)
            {
                throw new InvalidRestoreInputException("serverName",
                    $"server {name} already exists, restored to {existing.RestoreTime:O}, not {input.RestoreTime:O}; delete it first");
            }

            await EnsureRunningAsync(existing, cancellationToken);
            return new ProvisionServerResult(name, ServerState.Provisioning, AlreadyExisted: true);
        }

        var backup = ChooseBackup(input.RestoreTime);
        await MakeTargetReachableAsync(input.Source, cancellationToken);

        // A folder without a record is an interrupted earlier attempt: start it over.
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        var record = new RestoredServer(name, input.RestoreTime, LocalCluster.FreeLoopbackPort(), backup.Name, input.Source.AdminUser, input.Source.AdminSecretRef, input.Source.MajorVersion, time.GetUtcNow());
        await PrepareDataDirectoryAsync(record, backup, folder, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, RecordFile), LocalState.Serialize(record), cancellationToken);
        await EnsureRunningAsync(record, cancellationToken);
        return new ProvisionServerResult(name, ServerState.Provisioning, AlreadyExisted: false);
    }

    /// <inheritdoc />
    public async Task<ServerStatus> GetStateAsync(GetServerStateInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Read(input.ServerName) is not { } record)
        {
            return new ServerStatus(input.ServerName, ServerState.NotFound, Detail: "no such local server");
        }

        var cluster = Cluster(record);
        if (!await cluster.IsRunningAsync(cancellationToken))
        {
            await EnsureRunningAsync(record, cancellationToken);
        }

        var server = new DbServerInfo(record.Name, cluster.Host, record.Port, record.AdminUser, record.AdminSecretRef, record.MajorVersion);
        try
        {
            await using var connection = await connector.OpenMaintenanceAsync(server, cancellationToken);
            await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
            var recovering = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
            return recovering
                ? new ServerStatus(record.Name, ServerState.Provisioning, Detail: "replaying WAL")
                : new ServerStatus(record.Name, ServerState.Ready, server, $"restored to {record.RestoreTime:O} from backup {record.BackupName}");
        }
        catch (NpgsqlException e) when (e.IsTransient || e is PostgresException { SqlState: "57P03" })
        {
            return new ServerStatus(record.Name, ServerState.Provisioning, Detail: "starting");
        }
    }

    /// <inheritdoc />
    public async Task<DeleteServerResult> DeleteAsync(DeleteServerInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var folder = Path.Combine(layout.ServersDirectory, ServerNames.Require(input.ServerName, "serverName"));
        if (!Directory.Exists(folder))
        {
            return new DeleteServerResult(input.ServerName, Deleted: false);
        }

        if (Read(input.ServerName) is { } record)
        {
            await Cluster(record).DisposeAsync();
        }

        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        return new DeleteServerResult(input.ServerName, Deleted: true);
    }

    /// <summary>Every restored server's record.</summary>
    public IReadOnlyList<RestoredServer> List() =>
        Directory.Exists(layout.ServersDirectory)
            ? Directory.EnumerateDirectories(layout.ServersDirectory).Select(d => Read(Path.GetFileName(d))).OfType<RestoredServer>().ToList()
            : [];

    /// <summary>Stops a restored server without deleting it.</summary>
    public Task StopAsync(RestoredServer record, CancellationToken cancellationToken) => Cluster(record).StopAsync(cancellationToken);

    private BaseBackupInfo ChooseBackup(DateTimeOffset restoreTime)
    {
        var now = time.GetUtcNow();
        if (restoreTime > now)
        {
            throw new InvalidRestoreInputException("restoreTime", $"{restoreTime:O} is in the future");
        }

        var all = backups.List();
        return all.LastOrDefault(b => b.FinishedAt <= restoreTime)
               ?? throw new InvalidRestoreInputException("restoreTime", all.Count == 0
                   ? "the local environment has no base backup yet; take one with 'rcm-pitr local backup'"
                   : $"{restoreTime:O} is before the earliest restorable time {all[0].FinishedAt:O}");
    }

    /// <summary>
    /// Recovery stops at the first commit after T; make sure one exists and its WAL is archived, so T is
    /// reachable rather than "recovery ended before the target".
    /// </summary>
    private async Task MakeTargetReachableAsync(DbServerInfo live, CancellationToken cancellationToken)
    {
        await using var connection = await connector.OpenMaintenanceAsync(live, cancellationToken);
        await using (var commit = new NpgsqlCommand("SELECT pg_current_xact_id()", connection))
        {
            await commit.ExecuteScalarAsync(cancellationToken);
        }

        string segment;
        await using (var switchWal = new NpgsqlCommand("SELECT pg_walfile_name(pg_switch_wal())", connection))
        {
            segment = (string)(await switchWal.ExecuteScalarAsync(cancellationToken))!;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (!File.Exists(Path.Combine(layout.WalArchive, segment)))
        {
            await Task.Delay(100, timeout.Token);
        }
    }

    private async Task PrepareDataDirectoryAsync(RestoredServer record, BaseBackupInfo backup, string folder, CancellationToken cancellationToken)
    {
        // The archive's path goes into a shell command: the home was checked when the environment was created, and
        // is checked again here, where it is written.
        LocalHomeChecks.RequireShellSafe(layout.WalArchive);
        var data = Path.Combine(folder, "data");
        CopyDirectory(backups.DataDirectoryOf(backup), data);
        File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.Delete(Path.Combine(data, "postmaster.pid"));
        Directory.CreateDirectory(Path.Combine(folder, "sock"));
        await File.WriteAllTextAsync(Path.Combine(data, "recovery.signal"), string.Empty, cancellationToken);
        var cluster = Cluster(record);
        await cluster.AppendSettingsAsync(
            new Dictionary<string, string>
            {
                ["port"] = record.Port.ToString(CultureInfo.InvariantCulture),
                ["listen_addresses"] = "'127.0.0.1'",
                ["unix_socket_directories"] = $"'{Path.Combine(folder, "sock")}'",
                // A restored copy must never write into the live cluster's archive.
                ["archive_mode"] = "off",
                ["restore_command"] = $"'cp \"{layout.WalArchive}/%f\" \"%p\"'",
                ["recovery_target_time"] = $"'{record.RestoreTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}+00'",
                ["recovery_target_action"] = "'promote'",
                ["hot_standby"] = "on",
            },
            cancellationToken);
        await LocalCluster.GiveToServiceAccountAsync(processes, folder, cancellationToken);
    }

    private async Task EnsureRunningAsync(RestoredServer record, CancellationToken cancellationToken)
    {
        var cluster = Cluster(record);
        if (!await cluster.IsRunningAsync(cancellationToken))
        {
            await cluster.StartAsync(cancellationToken);
        }
    }

    private LocalCluster Cluster(RestoredServer record)
    {
        var options = new LocalClusterOptions
        {
            RootDirectory = Path.Combine(layout.ServersDirectory, record.Name),
            Name = record.Name,
            SuperUser = record.AdminUser,
            Password = string.Empty,
        };
        return LocalCluster.Existing(options, tools.BinDirectoryFor(record.MajorVersion), record.MajorVersion, record.Port, processes);
    }

    private RestoredServer? Read(string name)
    {
        var file = Path.Combine(layout.ServersDirectory, name, RecordFile);
        return File.Exists(file) ? LocalState.Deserialize<RestoredServer>(File.ReadAllText(file)) : null;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
