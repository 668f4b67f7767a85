using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Local;

/// <summary>
/// Region loss on the local environment, as Azure geo-restores a Flexible Server: the newest base backup and EVERY archived WAL
/// segment are restored into a new cluster <c>&lt;source&gt;-geo-&lt;stamp&gt;</c> on its own port — no recovery target: replay
/// runs to the end of the archive and the server promotes. It needs nothing of the live cluster (its data directory may be
/// gone), only the backups and the archive. What it holds is what was archived: WAL the live cluster had not archived yet is
/// lost, as Azure's geo-backup lags its source. Idempotent by name, with the same owner record and per-name lock as a
/// point-in-time restore; a point-in-time request never uses or deletes it (the names differ).
/// </summary>
public sealed partial class LocalWalProvisioner : IGeoRestorer
{
    private const string RestorePointFile = "restore-point.json";

    /// <summary>What a geo-restored local server was found to hold when it first answered as promoted.</summary>
    /// <param name="LastTransactionAt">The last replayed transaction's commit time (<c>pg_last_xact_replay_timestamp()</c>); null when it replayed none.</param>
    /// <param name="LastSegment">The newest archived WAL segment when the restore was prepared.</param>
    /// <param name="LastSegmentArchivedAt">When that segment was archived (its file's time).</param>
    public sealed record GeoRestorePoint(DateTimeOffset? LastTransactionAt, string? LastSegment, DateTimeOffset? LastSegmentArchivedAt, string BackupName);

    /// <inheritdoc />
    public async Task<GeoRestoreResult> StartGeoRestoreAsync(GeoRestoreInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(input.Source);
        var name = ServerNames.Require(input.ServerName, "serverName");
        if (!ServerNames.IsGeo(name))
        {
            throw new InvalidRestoreInputException("serverName", $"'{name}' is not a geo-restored server's name (<source>-geo-<yyyyMMddHHmmss>)");
        }

        var folder = FolderOf(name);
        using var held = await LockAsync(name, cancellationToken);
        RemoveLeftovers(name);
        if (Directory.Exists(folder))
        {
            var owner = RequireGeoOwner(name, input.Source.Name);
            if (Read(name) is { } existing)
            {
                await EnsureRunningAsync(existing, cancellationToken);
                return Started(name, owner.RestoreTime, existing.BackupName, alreadyExisted: true);
            }

            ClearAllButOwner(folder);
            var resumed = await PrepareGeoAsync(name, owner.RestoreTime, input.Source, folder, cancellationToken);
            return Started(name, owner.RestoreTime, resumed.BackupName, alreadyExisted: false);
        }

        _ = NewestBackup(); // refusals come before anything is created
        var requestedAt = time.GetUtcNow();
        CreateOwnedFolder(folder, new LocalServerOwner(LocalServerOwner.RcmPitr, name, input.Source.Name, requestedAt, requestedAt, LocalServerOwner.GeoKind));
        var record = await PrepareGeoAsync(name, requestedAt, input.Source, folder, cancellationToken);
        return Started(name, requestedAt, record.BackupName, alreadyExisted: false);
    }

    /// <inheritdoc />
    public async Task<GeoRestoreState> GetGeoRestoreStateAsync(GetServerStateInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var status = await GetStateAsync(input, cancellationToken);
        if (status.State != ServerState.Ready || Read(status.ServerName) is not { } record)
        {
            return new GeoRestoreState(status);
        }

        var point = await RestorePointOfAsync(record, status.Server!, cancellationToken);
        var ready = status with { Detail = $"geo-restored from backup {record.BackupName} and the whole WAL archive" };
        return new GeoRestoreState(ready, Describe(point), point.LastTransactionAt);
    }

    /// <summary>The honest statement of what a geo-restored local server holds.</summary>
    public static string Describe(GeoRestorePoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        var transaction = point.LastTransactionAt is { } at
            ? $"the last transaction replayed committed at {at.UtcDateTime:O}"
            : "no transaction was replayed after the base backup";
        var segment = point.LastSegment is { } wal
            ? $"every change archived up to WAL segment {wal}" + (point.LastSegmentArchivedAt is { } archived ? $" (archived {archived.UtcDateTime:O})" : string.Empty)
            : "no archived WAL";
        return $"latest archived state, not a point in time: base backup {point.BackupName} plus {segment}; {transaction}; changes not yet archived when the server was lost are not included";
    }

    // The time of the last replayed transaction is only known until the server restarts: it is read once, when the server first
    // answers as promoted, and kept beside the server record.
    private async Task<GeoRestorePoint> RestorePointOfAsync(RestoredServer record, DbServerInfo server, CancellationToken cancellationToken)
    {
        var file = Path.Combine(FolderOf(record.Name), RestorePointFile);
        if (ReadFile<GeoRestorePoint>(file) is { } known)
        {
            return known;
        }

        DateTimeOffset? lastTransaction;
        await using (var connection = await connector.OpenMaintenanceAsync(server, cancellationToken))
        await using (var command = new NpgsqlCommand("SELECT pg_last_xact_replay_timestamp()", connection))
        {
            lastTransaction = await command.ExecuteScalarAsync(cancellationToken) is DateTime at
                ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))
                : null;
        }

        var (segment, archivedAt) = NewestArchivedSegment();
        var point = new GeoRestorePoint(lastTransaction, segment, archivedAt, record.BackupName);
        var partial = file + ".partial";
        await File.WriteAllTextAsync(partial, LocalState.Serialize(point), cancellationToken);
        File.Move(partial, file, overwrite: true);
        return point;
    }

    private static GeoRestoreResult Started(string name, DateTimeOffset requestedAt, string backup, bool alreadyExisted) =>
        new(name, ServerState.Provisioning, alreadyExisted, "local", requestedAt,
            $"the newest base backup ({backup}) plus every archived WAL segment: the latest archived state, not a point in time");

    private BaseBackupInfo NewestBackup() =>
        backups.List().LastOrDefault()
        ?? throw new InvalidRestoreInputException("source", "the local environment has no base backup: there is nothing to geo-restore from");

    private async Task<RestoredServer> PrepareGeoAsync(string name, DateTimeOffset requestedAt, DbServerInfo source, string folder, CancellationToken cancellationToken)
    {
        var backup = NewestBackup();
        var record = new RestoredServer(name, requestedAt, LocalCluster.FreeLoopbackPort(), backup.Name, source.AdminUser, source.AdminSecretRef, source.MajorVersion, time.GetUtcNow());
        LocalHomeChecks.RequireShellSafe(layout.WalArchive);
        var data = Path.Combine(folder, "data");
        CopyDirectory(backups.DataDirectoryOf(backup), data, cancellationToken);
        File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.Delete(Path.Combine(data, "postmaster.pid"));
        Directory.CreateDirectory(Path.Combine(folder, "sock"));
        await File.WriteAllTextAsync(Path.Combine(data, "recovery.signal"), string.Empty, cancellationToken);
        await Cluster(record).AppendSettingsAsync(
            new Dictionary<string, string>
            {
                ["port"] = record.Port.ToString(CultureInfo.InvariantCulture),
                ["listen_addresses"] = "'127.0.0.1'",
                ["unix_socket_directories"] = $"'{Path.Combine(folder, "sock")}'",
                // The recovered server must never write into the lost server's archive.
                ["archive_mode"] = "off",
                ["restore_command"] = $"'cp \"{layout.WalArchive}/%f\" \"%p\"'",
                // No recovery target: replay every archived segment, then promote.
                ["hot_standby"] = "on",
            },
            cancellationToken);
        await LocalCluster.GiveToServiceAccountAsync(processes, folder, cancellationToken);
        var partial = Path.Combine(folder, RecordFile + ".partial");
        await File.WriteAllTextAsync(partial, LocalState.Serialize(record), cancellationToken);
        File.Move(partial, Path.Combine(folder, RecordFile), overwrite: true);
        await EnsureRunningAsync(record, cancellationToken);
        return record;
    }

    private (string? Segment, DateTimeOffset? ArchivedAt) NewestArchivedSegment()
    {
        if (!Directory.Exists(layout.WalArchive))
        {
            return (null, null);
        }

        var newest = Directory.EnumerateFiles(layout.WalArchive)
            .Select(f => new FileInfo(f))
            .Where(f => SegmentPattern().IsMatch(f.Name))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .LastOrDefault();
        return newest is null ? (null, null) : (newest.Name, new DateTimeOffset(newest.LastWriteTimeUtc, TimeSpan.Zero));
    }

    private LocalServerOwner RequireGeoOwner(string name, string source)
    {
        var owner = ReadOwner(name)
                    ?? throw new DatabaseStateConflictException(
                        $"The local server folder {name} exists but carries no RcmPitr owner record: RcmPitr did not create it, so it is neither used nor deleted.");
        if (owner.CreatedBy != LocalServerOwner.RcmPitr || owner.Kind != LocalServerOwner.GeoKind || owner.Source != source || owner.Name != name)
        {
            throw new DatabaseStateConflictException($"The local server {name} is not RcmPitr's geo-restore of {source}; it is not used for this request.");
        }

        return owner;
    }

    [GeneratedRegex("^[0-9A-F]{24}$", RegexOptions.CultureInvariant)]
    private static partial Regex SegmentPattern();
}
