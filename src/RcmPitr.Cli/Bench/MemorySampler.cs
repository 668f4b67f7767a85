using System.Globalization;

namespace RcmPitr.Cli.Bench;

/// <summary>
/// Samples the memory of the mover while a move runs: this process's working set plus the resident memory
/// of its pg_dump / pg_restore children (from /proc). Server backends are not the mover and are not counted.
/// </summary>
internal sealed class MemorySampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peak;

    public MemorySampler() => _loop = Task.Run(SampleAsync);

    public long PeakBytes => Interlocked.Read(ref _peak);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task SampleAsync()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        while (!_stop.IsCancellationRequested)
        {
            self.Refresh();
            var total = self.WorkingSet64 + ToolsResidentBytes();
            long seen;
            while ((seen = Interlocked.Read(ref _peak)) < total && Interlocked.CompareExchange(ref _peak, total, seen) != seen)
            {
            }

            await Task.Delay(50, _stop.Token);
        }
    }

    private static long ToolsResidentBytes()
    {
        long total = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var name = File.ReadAllText(Path.Combine(directory, "comm")).Trim();
                if (name is not ("pg_dump" or "pg_restore"))
                {
                    continue;
                }

                var rss = File.ReadLines(Path.Combine(directory, "status")).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                if (rss is not null && long.TryParse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
                {
                    total += kb * 1024;
                }
            }
            catch (IOException)
            {
                // The process ended between listing and reading.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return total;
    }
}
