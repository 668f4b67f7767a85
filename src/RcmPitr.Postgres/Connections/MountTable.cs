using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Connections;

/// <summary>
/// The file system a folder lives on, from <c>/proc/self/mountinfo</c>. Password files must stay off network shares:
/// an SMB mount (Azure Files, the scratch share on Azure) fixes owner and modes at mount time, usually with group and
/// world bits, and libpq ignores a password file that has them; the share is also persistent and reachable by whoever
/// holds its key.
/// </summary>
internal static class MountTable
{
    private const string MountInfo = "/proc/self/mountinfo";

    private static readonly HashSet<string> NetworkFileSystems = new(StringComparer.Ordinal)
    {
        "cifs", "smb3", "smbfs", "nfs", "nfs4", "9p", "afs", "ceph", "glusterfs", "lustre", "virtiofs",
    };

    /// <summary>
    /// Refuses <paramref name="folder"/> when it is on a network or FUSE file system (<paramref name="what"/> names it in
    /// the error). <paramref name="mountInfo"/> is the mount table's text; null reads this process's.
    /// </summary>
    public static void RefuseNetworkFolder(string folder, string what, string? mountInfo = null)
    {
        mountInfo ??= File.Exists(MountInfo) ? File.ReadAllText(MountInfo) : string.Empty;
        var path = RealPath(folder);
        var fileSystem = FileSystemOf(path, mountInfo);
        if (fileSystem is not null && (NetworkFileSystems.Contains(fileSystem) || fileSystem.StartsWith("fuse", StringComparison.Ordinal)))
        {
            throw new UnsafeDirectoryException(path,
                $"{what} {path} is on a {fileSystem} mount (shared, persistent storage whose file modes libpq cannot trust); " +
                "choose a folder on local storage, e.g. under /dev/shm or $TMPDIR");
        }
    }

    /// <summary>The type of the file system <paramref name="path"/> (absolute, links resolved) is on, or null when unknown.</summary>
    public static string? FileSystemOf(string path, string mountInfo)
    {
        string? best = null;
        var bestLength = -1;
        foreach (var line in mountInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "<id> <parent> <major:minor> <root> <mount point> <options> [optional fields] - <type> <source> <super options>"
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 5 || separator + 1 >= fields.Length)
            {
                continue;
            }

            var mountPoint = Unescape(fields[4]);
            var contains = mountPoint == "/" || path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);
            // Later lines are mounted over earlier ones at the same point.
            if (contains && mountPoint.Length >= bestLength)
            {
                best = fields[separator + 1];
                bestLength = mountPoint.Length;
            }
        }

        return best;
    }

    // mountinfo escapes space, tab, newline and backslash as octal (\040, \011, \012, \134).
    private static string Unescape(string field) => field
        .Replace(@"\040", " ", StringComparison.Ordinal)
        .Replace(@"\011", "\t", StringComparison.Ordinal)
        .Replace(@"\012", "\n", StringComparison.Ordinal)
        .Replace(@"\134", @"\", StringComparison.Ordinal);

    // The path with every symbolic link along it resolved, so a link into a share is judged by the share.
    private static string RealPath(string folder)
    {
        var current = "/";
        foreach (var part in Path.GetFullPath(folder).Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            var target = UnixFileStatus.Of(next) is { IsSymbolicLink: true } ? File.ResolveLinkTarget(next, returnFinalTarget: true) : null;
            current = target is null ? next : Path.GetFullPath(target.FullName);
        }

        return current;
    }
}
