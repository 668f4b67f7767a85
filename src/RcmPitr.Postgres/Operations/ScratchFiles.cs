using System.Security.Cryptography;

namespace RcmPitr.Postgres.Operations;

/// <summary>File helpers for dumps: private folders, durable renames, checksums.</summary>
internal static class ScratchFiles
{
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Makes sure the scratch root is private (<see cref="Connections.PrivateDirectory"/>: this user's, no symbolic
    /// link, writable by nobody else), then creates <paramref name="path"/> under it (0700) and tightens it if it
    /// already existed. Nothing is written under a root that fails the check: a folder others can write may hold
    /// their links (pg_dump follows them).
    /// </summary>
    public static void EnsurePrivateDirectory(DataMoverOptions options, string path)
    {
        var root = Path.GetFullPath(options.ScratchDirectory);
        if (!options.ScratchIsSharedMount)
        {
            Connections.PrivateDirectory.Ensure(root, "the scratch folder");
        }
        else if (Connections.UnixFileStatus.Of(root) is { IsSymbolicLink: true })
        {
            throw new Workflow.Errors.UnsafeDirectoryException(root, $"the scratch folder {root} is a symbolic link; point the setting at the mount itself");
        }

        Directory.CreateDirectory(path, PrivateDirectory);
        File.SetUnixFileMode(path, PrivateDirectory);
    }

    /// <summary>Hex SHA-256 of a file, streamed.</summary>
    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    /// <summary>Flushes a file's data to disk, so a rename that follows never publishes a half-written file.</summary>
    public static void Fsync(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> (0600) through a temporary name and a rename.</summary>
    public static async Task WriteAtomicallyAsync(string path, string text, CancellationToken cancellationToken)
    {
        var temporary = path + ".partial";
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = PrivateFile };
        await using (var stream = new FileStream(temporary, fileOptions))
        await using (var writer = new StreamWriter(stream))
        {
            await writer.WriteAsync(text.AsMemory(), cancellationToken);
            await writer.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
