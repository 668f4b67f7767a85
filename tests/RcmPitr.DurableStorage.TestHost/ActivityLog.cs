namespace RcmPitr.DurableStorage.TestHost;

/// <summary>
/// One line per activity execution (<c>activity instance-id process-id</c>), appended and flushed to disk before the
/// activity returns, so the record survives a SIGKILL of this process and a test can count executions across hosts.
/// </summary>
public sealed class ActivityLog(string path)
{
    private readonly Lock _gate = new();

    public void Record(string activity, string instanceId)
    {
        var line = System.Text.Encoding.UTF8.GetBytes($"{activity} {instanceId} {Environment.ProcessId}\n");
        lock (_gate)
        {
            using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            file.Write(line);
            file.Flush(flushToDisk: true);
        }
    }

    /// <summary>Reads a log back: each execution as (activity, instance id, process id), in order.</summary>
    public static IReadOnlyList<(string Activity, string InstanceId, int ProcessId)> Read(string path) =>
        !File.Exists(path)
            ? []
            : File.ReadAllLines(path)
                .Where(l => l.Length > 0)
                .Select(l => l.Split(' '))
                .Select(p => (p[0], p[1], int.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture)))
                .ToList();
}
