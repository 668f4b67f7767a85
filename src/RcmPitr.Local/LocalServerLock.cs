namespace RcmPitr.Local;

/// <summary>
/// An exclusive lock on one restored server's name, across processes and within one: an open lock file with
/// <see cref="FileShare.None"/>, which .NET takes as <c>flock(LOCK_EX)</c> on Linux and the kernel drops when the holder
/// dies. Provisioning, starting and deleting one local server hold it, so two runs never work on one folder at once.
/// </summary>
public sealed class LocalServerLock : IDisposable
{
    // flock's EWOULDBLOCK, which .NET reports as the IOException's HResult when another holder has the file.
    private const int WouldBlock = 11;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly FileStream _file;

    private LocalServerLock(FileStream file) => _file = file;

    /// <summary>Takes the lock at <paramref name="path"/>, waiting (bounded polling) up to <paramref name="timeout"/>.</summary>
    public static async Task<LocalServerLock> AcquireAsync(string path, TimeProvider time, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            if (TryAcquire(path) is { } taken)
            {
                return taken;
            }

            if (time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"Another process has held {Path.GetFileName(path)} for over {timeout.TotalSeconds:0} s; try again later.");
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    /// <summary>Takes the lock if nobody holds it; null if somebody does.</summary>
    public static LocalServerLock? TryAcquire(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            return new LocalServerLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e) when (e.HResult == WouldBlock)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}
