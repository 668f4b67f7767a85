using System.Globalization;
using System.Text.RegularExpressions;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Local;

/// <summary>One base backup of the live cluster.</summary>
/// <param name="FinishedAt">When pg_basebackup returned: the backup is consistent by then, so any T at or after it is restorable from it.</param>
/// <param name="StartWalFile">The first WAL segment the backup needs; older archived WAL is only needed by older backups.</param>
public sealed record BaseBackupInfo(string Name, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string StartWalFile, long SizeBytes);

/// <summary>What a prune removed.</summary>
public sealed record PruneResult(IReadOnlyList<string> RemovedBackups, DateTimeOffset? EarliestRestorableTime);

/// <summary>
/// Base backups of the live cluster (pg_basebackup, plain format; WAL comes from the archive), and their
/// pruning — the local analogue of a backup retention window: the earliest restorable time is the end of
/// the oldest backup kept.
/// </summary>
public sealed partial class BaseBackups(LocalLayout layout, PgConnector connector, PgToolLocator tools, IProcessRunner processes, TimeProvider time)
{
    private const string InfoFile = "backup.json";

    /// <summary>The backups, oldest first.</summary>
    public IReadOnlyList<BaseBackupInfo> List() =>
        Directory.Exists(layout.BackupsDirectory)
            ? Directory.EnumerateDirectories(layout.BackupsDirectory)
                .Select(d => Path.Combine(d, InfoFile))
                .Where(File.Exists)
                .Select(f => LocalState.Deserialize<BaseBackupInfo>(File.ReadAllText(f)))
                .OrderBy(b => b.FinishedAt)
                .ToList()
            : [];

    /// <summary>The earliest time the live cluster can be restored to, or null without any backup.</summary>
    public DateTimeOffset? EarliestRestorableTime => List().FirstOrDefault()?.FinishedAt;

    /// <summary>The data directory of a backup.</summary>
    public string DataDirectoryOf(BaseBackupInfo backup)
    {
        ArgumentNullException.ThrowIfNull(backup);
        return Path.Combine(layout.BackupsDirectory, backup.Name, "data");
    }

    /// <summary>Takes a base backup now. Written under a temporary name and renamed when complete.</summary>
    public async Task<BaseBackupInfo> TakeAsync(DbServerInfo live, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(live);
        var started = time.GetUtcNow();
        var name = started.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        var partial = Path.Combine(layout.BackupsDirectory, "." + name + ".partial");
        Directory.CreateDirectory(partial, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var pgBaseBackup = await tools.LocateAsync("pg_basebackup", live.MajorVersion, cancellationToken);
        using (var environment = await PgToolEnvironment.CreateAsync(connector, live, cancellationToken))
        {
            var result = await processes.RunAsync(
                new ProcessSpec(pgBaseBackup.Path, [$"--pgdata={Path.Combine(partial, "data")}", "--wal-method=none", "--checkpoint=fast", "--no-password", $"--label=rcm-pitr-{name}"], environment.Variables),
                cancellationToken);
            if (result.ExitCode != 0)
            {
                Directory.Delete(partial, recursive: true);
                throw new InvalidOperationException($"pg_basebackup failed ({result.ExitCode}): {result.StandardError.Trim()}");
            }
        }

        var finished = time.GetUtcNow();
        var label = await File.ReadAllTextAsync(Path.Combine(partial, "data", "backup_label"), cancellationToken);
        var wal = StartWalPattern().Match(label);
        var size = Directory.EnumerateFiles(Path.Combine(partial, "data"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        var info = new BaseBackupInfo(name, started, finished, wal.Success ? wal.Groups[1].Value : string.Empty, size);
        await File.WriteAllTextAsync(Path.Combine(partial, InfoFile), LocalState.Serialize(info), cancellationToken);
        Directory.Move(partial, Path.Combine(layout.BackupsDirectory, name));
        return info;
    }

    /// <summary>
    /// Removes backups that finished before <paramref name="keepAfter"/>, always keeping the newest one, then
    /// the archived WAL only those backups needed. The earliest restorable time moves forward accordingly.
    /// </summary>
    public async Task<PruneResult> PruneAsync(DateTimeOffset keepAfter, int? majorVersion, CancellationToken cancellationToken)
    {
        var backups = List();
        var removed = new List<string>();
        foreach (var backup in backups.Take(backups.Count - 1).Where(b => b.FinishedAt < keepAfter))
        {
            Directory.Delete(Path.Combine(layout.BackupsDirectory, backup.Name), recursive: true);
            removed.Add(backup.Name);
        }

        var oldest = List().FirstOrDefault();
        if (removed.Count > 0 && oldest is { StartWalFile.Length: > 0 })
        {
            var cleanup = await tools.LocateAsync("pg_archivecleanup", majorVersion, cancellationToken);
            var result = await processes.RunAsync(new ProcessSpec(cleanup.Path, [layout.WalArchive, oldest.StartWalFile]), cancellationToken);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"pg_archivecleanup failed: {result.StandardError.Trim()}");
            }
        }

        return new PruneResult(removed, oldest?.FinishedAt);
    }

    /// <summary>Gives a backup's or archive's files to the server's OS account (needed before a server reads them).</summary>
    public Task GiveToServiceAccountAsync(string path, CancellationToken cancellationToken) =>
        LocalCluster.GiveToServiceAccountAsync(processes, path, cancellationToken);

    [GeneratedRegex(@"START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)", RegexOptions.CultureInvariant)]
    private static partial Regex StartWalPattern();
}
