using System.Globalization;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;

namespace RcmPitr.Local;

/// <summary>
/// Checks of a local environment's home folder made before anything is created there, so a bad choice is refused
/// with a sentence saying what to change instead of failing midway in initdb or in the server's archiving.
/// </summary>
public static class LocalHomeChecks
{
    /// <summary>
    /// Refuses a home path the server's <c>archive_command</c> and <c>restore_command</c> cannot hold: they are run by
    /// a shell with the WAL archive's path inside double quotes, in a single-quoted configuration value, where quotes,
    /// <c>$</c>, backticks and backslashes would end or expand the string, and <c>%</c> is a placeholder.
    /// </summary>
    public static void RequireShellSafe(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        for (var i = 0; i < path.Length; i++)
        {
            if (Refused(path[i]) is { } name)
            {
                throw new InvalidOperationException(
                    $"the home folder {Printable(path)} contains {name} (at position {(i + 1).ToString(CultureInfo.InvariantCulture)}), which cannot be used: " +
                    "the path goes into the server's archive_command and restore_command, run by a shell; choose a path without quotes, '$', '`', '\\', '%' or control characters");
            }
        }
    }

    /// <summary>
    /// When this process is root, the servers run as the <c>postgres</c> OS user, which must be able to enter every
    /// folder above the home (search, <c>x</c>, permission). Refuses naming the first folder it cannot enter, its owner
    /// and mode, and the change that fixes it. Folders not created yet are skipped (they are created traversable).
    /// </summary>
    public static async Task RequireServiceAccountCanReachAsync(string home, IProcessRunner processes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(processes);
        if (!LocalCluster.RunsAsServiceAccount)
        {
            return;
        }

        var folders = new List<string>();
        for (var folder = Path.GetDirectoryName(Path.GetFullPath(home)); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (Directory.Exists(folder))
            {
                folders.Insert(0, folder);
            }
        }

        if (folders.Count == 0 || await CanEnterAsync(folders[^1], processes, cancellationToken))
        {
            return;
        }

        foreach (var folder in folders)
        {
            if (!await CanEnterAsync(folder, processes, cancellationToken))
            {
                var status = UnixFileStatus.Of(folder);
                var mode = status is null ? "?" : Convert.ToString(status.Mode, 8).PadLeft(4, '0');
                throw new InvalidOperationException(
                    $"the PostgreSQL servers run as the '{LocalCluster.ServiceAccount}' OS user (this process is root), which cannot enter {folder} " +
                    $"(owner uid {status?.UserId.ToString(CultureInfo.InvariantCulture) ?? "?"}, mode {mode}); it needs search (x) permission on every folder above the home: " +
                    $"run 'chmod o+x {folder}' (or 'chmod 711 {folder}'), or choose a home whose parent folders it can enter");
            }
        }
    }

    private static async Task<bool> CanEnterAsync(string folder, IProcessRunner processes, CancellationToken cancellationToken)
    {
        var result = await processes.RunAsync(LocalCluster.AsServiceAccount("test", ["-x", folder]), cancellationToken);
        return result.ExitCode == 0;
    }

    private static string? Refused(char c) => c switch
    {
        '"' => "a double quote (\")",
        '\'' => "a single quote (')",
        '$' => "a dollar sign ($)",
        '`' => "a backtick (`)",
        '\\' => "a backslash (\\)",
        '%' => "a percent sign (%)",
        '\n' => "a newline",
        '\r' => "a carriage return",
        _ when char.IsControl(c) => string.Create(CultureInfo.InvariantCulture, $"a control character (U+{(int)c:X4})"),
        _ => null,
    };

    private static string Printable(string path) => new(path.Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
