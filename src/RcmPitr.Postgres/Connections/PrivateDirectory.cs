using System.Globalization;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Connections;

/// <summary>
/// Folders only this process's user may enter: created 0700, and refused when they are a symbolic link, belong to
/// another user, or are writable by group or others (anyone could have planted files or links in them). A folder of
/// ours that others may only read or enter is tightened to 0700.
/// </summary>
public static class PrivateDirectory
{
    /// <summary>The mode of a private folder.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="path"/> if needed and makes sure it is private; <paramref name="what"/> names it in errors.</summary>
    public static void Ensure(string path, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (UnixFileStatus.Of(full) is null)
        {
            Directory.CreateDirectory(full, Mode);
        }

        var status = UnixFileStatus.Of(full) ?? throw new IOException($"{what} {full} vanished while being created");
        var me = UnixFileStatus.EffectiveUserId;
        if (status.IsSymbolicLink)
        {
            throw new UnsafeDirectoryException(full, $"{what} {full} is a symbolic link; use a real folder owned by uid {me} with mode 0700");
        }

        if (!status.IsDirectory)
        {
            throw new UnsafeDirectoryException(full, $"{what} {full} is not a folder");
        }

        if (status.UserId != me)
        {
            throw new UnsafeDirectoryException(full,
                $"{what} {full} belongs to uid {status.UserId}, not to this process's user (uid {me}); remove it or choose another folder");
        }

        if ((status.Mode & 0b000_010_010) != 0)
        {
            throw new UnsafeDirectoryException(full,
                $"{what} {full} is writable by others (mode {Octal(status.Mode)}); anything in it may have been planted: empty it and chmod 700, or choose another folder");
        }

        if ((status.Mode & 0xFFF) != (int)Mode)
        {
            File.SetUnixFileMode(full, Mode);
        }
    }

    private static string Octal(int mode) => Convert.ToString(mode, 8).PadLeft(4, '0').ToString(CultureInfo.InvariantCulture);
}
