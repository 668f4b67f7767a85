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
/// accepts writes. Idempotent by server name: the same name and time is reused, and an interrupted provisioning is
/// resumed. Each server folder starts with its owner record (<see cref="LocalServerOwner"/>), and provisioning,
/// starting and deleting one server hold its <see cref="LocalServerLock"/>, so concurrent runs never race on a folder
/// and a folder RcmPitr did not create for this source and time is never used or deleted.
/// </summary>
public sealed partial class LocalWalProvisioner(
    LocalLayout layout, BaseBackups backups, PgConnector connector, PgToolLocator tools, IProcessRunner processes, TimeProvider time) : IServerProvisioner
{
    private const string RecordFile = "server.json";
    private const string OwnerFile = "owner.json";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(10);

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
        ArgumentNullException.ThrowIfNull(input.Source);
        var name = ServerNames.Require(input.ServerName, "serverName");
        var folder = FolderOf(name);
        using var held = await LockAsync(name, cancellationToken);
        RemoveLeftovers(name);
        if (Directory.Exists(folder))
        {
            var owner = RequireOwner(name, input.Source.Name, input.RestoreTime, "used");
            if (Read(name) is { } existing)
            {
                await EnsureRunningAsync(existing, cancellationToken);
                return new ProvisionServerResult(name, ServerState.Provisioning, AlreadyExisted: true);
            }

            // The owner record without a server record: an earlier attempt was interrupted. Redo everything after the record.
            ClearAllButOwner(folder);
            await PrepareAsync(name, owner.RestoreTime, input.Source, folder, cancellationToken);
            return new ProvisionServerResult(name, ServerState.Provisioning, AlreadyExisted: false);
        }

        ChooseBackup(input.RestoreTime); // refusals come before anything is created
        CreateOwnedFolder(folder, new LocalServerOwner(LocalServerOwner.RcmPitr, name, input.Source.Name, input.RestoreTime, time.GetUtcNow()));
        await PrepareAsync(name, input.RestoreTime, input.Source, folder, cancellationToken);
        return new ProvisionServerResult(name, ServerState.Provisioning, AlreadyExisted: false);
    }

    /// <inheritdoc />
    public async Task<ServerStatus> GetStateAsync(GetServerStateInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = ServerNames.Require(input.ServerName, "serverName");
        if (Read(name) is not { } record)
        {
            return StateWithoutRecord(name);
        }

        var cluster = Cluster(record);
        if (!await cluster.IsRunningAsync(cancellationToken))
        {
            // Starting is work on the folder: never while another run provisions or deletes it.
            using var held = await LockAsync(name, cancellationToken);
            if (Read(name) is null)
            {
                return StateWithoutRecord(name);
            }

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
        ArgumentNullException.ThrowIfNull(input.Source);
        var name = ServerNames.Require(input.ServerName, "serverName");
        var folder = FolderOf(name);
        using var held = await LockAsync(name, cancellationToken);
        RemoveLeftovers(name);
        if (!Directory.Exists(folder))
        {
            return new DeleteServerResult(name, Deleted: false);
        }

        var owner = RequireOwner(name, input.Source.Name, input.RestoreTime, "deleted");
        var data = Path.Combine(folder, "data");
        if (Read(name) is { } record && File.Exists(Path.Combine(data, "postmaster.pid")))
        {
            await processes.RunAsync(
                LocalCluster.AsServiceAccount(Path.Combine(tools.BinDirectoryFor(record.MajorVersion), "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]),
                cancellationToken);
            if (await Cluster(record).IsRunningAsync(cancellationToken))
            {
                throw new InvalidOperationException($"The local server {name} did not stop; it is left in place.");
            }
        }

        // Out of the name at once, then removed: a crash midway leaves a leftover folder the next call removes, never
        // a half-deleted server under the name.
        var trash = Path.Combine(layout.ServersDirectory, $".{name}.deleting-{Guid.NewGuid():N}");
        Directory.Move(folder, trash);
        Directory.Delete(trash, recursive: true);
        return new DeleteServerResult(owner.Name, Deleted: true);
    }

    /// <inheritdoc />
    public async Task<ServerStorage> GetStorageAsync(DbServerInfo server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        string directory;
        await using (var connection = await connector.OpenMaintenanceAsync(server, cancellationToken))
        await using (var command = new NpgsqlCommand("SELECT current_setting('data_directory')", connection))
        {
            directory = (string)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        // The file system the cluster's data directory lives on: statvfs of that path.
        var drive = new DriveInfo(directory);
        return new ServerStorage(drive.TotalSize, drive.AvailableFreeSpace);
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

    private async Task PrepareAsync(string name, DateTimeOffset restoreTime, DbServerInfo source, string folder, CancellationToken cancellationToken)
    {
        var backup = ChooseBackup(restoreTime);
        await MakeTargetReachableAsync(source, cancellationToken);
        var record = new RestoredServer(name, restoreTime, LocalCluster.FreeLoopbackPort(), backup.Name, source.AdminUser, source.AdminSecretRef, source.MajorVersion, time.GetUtcNow());
        await PrepareDataDirectoryAsync(record, backup, folder, cancellationToken);
        // The server record last, by rename: its presence means the data directory is complete.
        var partial = Path.Combine(folder, RecordFile + ".partial");
        await File.WriteAllTextAsync(partial, LocalState.Serialize(record), cancellationToken);
        File.Move(partial, Path.Combine(folder, RecordFile), overwrite: true);
        await EnsureRunningAsync(record, cancellationToken);
    }

    private async Task PrepareDataDirectoryAsync(RestoredServer record, BaseBackupInfo backup, string folder, CancellationToken cancellationToken)
    {
        // The archive's path goes into a shell command: the home was checked when the environment was created, and
        // is checked again here, where it is written.
        LocalHomeChecks.RequireShellSafe(layout.WalArchive);
        var data = Path.Combine(folder, "data");
        CopyDirectory(backups.DataDirectoryOf(backup), data, cancellationToken);
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

    // The owner record is written into a folder nobody else uses and only then given the server's name, so no folder
    // ever carries a server's name without saying who made it for what.
    private void CreateOwnedFolder(string folder, LocalServerOwner owner)
    {
        var staging = Path.Combine(layout.ServersDirectory, $".{owner.Name}.new-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using (var file = new FileStream(Path.Combine(staging, OwnerFile), FileMode.CreateNew, FileAccess.Write))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(LocalState.Serialize(owner)));
            file.Flush(flushToDisk: true);
        }

        Directory.Move(staging, folder);
    }

    // Checks the folder is RcmPitr's, made for this source and time; anything else is refused and left as it is.
    private LocalServerOwner RequireOwner(string name, string source, DateTimeOffset? restoreTime, string verb)
    {
        var owner = ReadOwner(name)
                    ?? throw new DatabaseStateConflictException(
                        $"The local server folder {name} exists but carries no RcmPitr owner record: RcmPitr did not create it, so it is neither used nor deleted. " +
                        "Choose another restore time (each second has its own server name), or ask whoever made that folder.");
        var expected = ServerNames.Pitr(owner.Source, RestoreStamp.From(owner.RestoreTime));
        if (owner.CreatedBy != LocalServerOwner.RcmPitr || owner.Source != source || expected != name || (restoreTime is { } t && owner.RestoreTime != t))
        {
            throw new DatabaseStateConflictException(
                $"The local server {name} was created by RcmPitr for {owner.Source} restored to {owner.RestoreTime:O}, not for {source}" +
                (restoreTime is { } wanted ? $" restored to {wanted:O}" : string.Empty) + $"; it is not {verb} for this request.");
        }

        return owner;
    }

    private ServerStatus StateWithoutRecord(string name)
    {
        if (!Directory.Exists(FolderOf(name)))
        {
            return new ServerStatus(name, ServerState.NotFound, Detail: "no such local server");
        }

        if (ReadOwner(name) is null)
        {
            return new ServerStatus(name, ServerState.Failed, Detail: "a folder of that name exists that RcmPitr did not create");
        }

        using var free = LocalServerLock.TryAcquire(LockPath(name));
        if (free is null)
        {
            return new ServerStatus(name, ServerState.Provisioning, Detail: "its data directory is being prepared");
        }

        // Nobody works on it now: either the provisioning just finished (ask again), or it was interrupted.
        return Read(name) is not null
            ? new ServerStatus(name, ServerState.Provisioning, Detail: "starting")
            : new ServerStatus(name, ServerState.Failed, Detail: "an earlier provisioning was interrupted; provisioning it again with the same name and time resumes it");
    }

    // Leftovers of a crash: a staging folder that never got its name, or a deleted server's folder not yet removed.
    private void RemoveLeftovers(string name)
    {
        if (!Directory.Exists(layout.ServersDirectory))
        {
            return;
        }

        foreach (var leftover in Directory.EnumerateDirectories(layout.ServersDirectory, $".{name}.*"))
        {
            Directory.Delete(leftover, recursive: true);
        }
    }

    private static void ClearAllButOwner(string folder)
    {
        foreach (var directory in Directory.EnumerateDirectories(folder))
        {
            Directory.Delete(directory, recursive: true);
        }

        foreach (var file in Directory.EnumerateFiles(folder).Where(f => Path.GetFileName(f) != OwnerFile))
        {
            File.Delete(file);
        }
    }

    private Task<LocalServerLock> LockAsync(string name, CancellationToken cancellationToken) =>
        LocalServerLock.AcquireAsync(LockPath(name), time, LockTimeout, cancellationToken);

    private string LockPath(string name) => Path.Combine(layout.LocksDirectory, name + ".lock");

    private string FolderOf(string name) => Path.Combine(layout.ServersDirectory, name);

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

    private RestoredServer? Read(string name) => ReadFile<RestoredServer>(Path.Combine(FolderOf(name), RecordFile));

    private LocalServerOwner? ReadOwner(string name) => ReadFile<LocalServerOwner>(Path.Combine(FolderOf(name), OwnerFile));

    // A state poll reads without the lock: a deletion may move the folder away between the check and the read.
    private static T? ReadFile<T>(string file)
        where T : class
    {
        try
        {
            return File.Exists(file) ? LocalState.Deserialize<T>(File.ReadAllText(file)) : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static void CopyDirectory(string from, string to, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(to);
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
