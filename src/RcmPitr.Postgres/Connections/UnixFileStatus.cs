using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RcmPitr.Postgres.Connections;

/// <summary>
/// Owner, type and mode of a path without following a final symbolic link (<c>statx</c>), and this process's
/// effective user id: what is needed to trust a folder with secrets or dumps, and what .NET does not expose.
/// </summary>
/// <param name="UserId">The owner's user id.</param>
/// <param name="GroupId">The owner's group id.</param>
/// <param name="Mode">The permission bits (<c>0777</c> and the set-id/sticky bits).</param>
/// <param name="IsDirectory">Whether the path is a directory.</param>
/// <param name="IsSymbolicLink">Whether the path itself is a symbolic link.</param>
public sealed record UnixFileStatus(uint UserId, uint GroupId, int Mode, bool IsDirectory, bool IsSymbolicLink)
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxTypeModeUidGid = 0x1 | 0x2 | 0x8 | 0x10;

    /// <summary>The effective user id of this process.</summary>
    public static uint EffectiveUserId => GetEffectiveUserId();

    /// <summary>The status of <paramref name="path"/> (the link itself when it is one), or null when it does not exist.</summary>
    public static UnixFileStatus? Of(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var buffer = new byte[256];
        if (StatX(AtFdCwd, path, AtSymlinkNoFollow, StatxTypeModeUidGid, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == 2 ? null : throw new IOException($"cannot read the status of {path} (errno {errno})");
        }

        // struct statx: stx_uid at 20, stx_gid at 24, stx_mode (u16) at 28; the same on every architecture.
        var uid = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(20));
        var gid = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(24));
        var mode = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28));
        var type = mode & 0xF000;
        return new UnixFileStatus(uid, gid, mode & 0xFFF, type == 0x4000, type == 0xA000);
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int StatX(int directoryFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
