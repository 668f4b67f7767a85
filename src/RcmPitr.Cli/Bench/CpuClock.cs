using System.Globalization;
using RcmPitr.Postgres.Processes;

namespace RcmPitr.Cli.Bench;

/// <summary>
/// CPU time as Linux counts it in /proc: a process's (a server backend's, by its <c>pg_backend_pid()</c>), this
/// process's, and the whole machine's idle time. The kernel counts in clock ticks of <c>getconf CLK_TCK</c> per second.
/// </summary>
internal sealed class CpuClock(long ticksPerSecond)
{
    /// <summary>Clock ticks per second of the /proc counters.</summary>
    public long TicksPerSecond { get; } = ticksPerSecond;

    /// <summary>Asks <c>getconf CLK_TCK</c>; 100 (the Linux default) when it cannot be asked.</summary>
    public static async Task<CpuClock> CreateAsync(IProcessRunner processes, CancellationToken ct)
    {
        try
        {
            var result = await processes.RunAsync(new ProcessSpec("getconf", ["CLK_TCK"]), ct);
            if (result.ExitCode == 0 && long.TryParse(result.StandardOutput.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks) && ticks > 0)
            {
                return new CpuClock(ticks);
            }
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
        }

        return new CpuClock(100);
    }

    /// <summary>User plus system CPU seconds of process <paramref name="pid"/> so far (fields 14 and 15 of /proc/&lt;pid&gt;/stat).</summary>
    public double ProcessSeconds(int pid)
    {
        var stat = ProcStat.Read(pid);
        return (double)(stat.Number(14) + stat.Number(15)) / TicksPerSecond;
    }

    /// <summary>The sum of <see cref="ProcessSeconds(int)"/> over <paramref name="pids"/>.</summary>
    public double ProcessSeconds(IEnumerable<int> pids) => pids.Sum(ProcessSeconds);

    /// <summary>CPU seconds this process has used so far, every thread.</summary>
    public static double OwnSeconds()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>Core-seconds every core of the machine spent idle or waiting for I/O so far (the <c>cpu</c> line of /proc/stat).</summary>
    public double IdleCoreSeconds()
    {
        using var reader = new StreamReader("/proc/stat");
        var line = reader.ReadLine() ?? throw new InvalidOperationException("/proc/stat is empty");
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // cpu user nice system idle iowait ...
        var ticks = long.Parse(fields[4], CultureInfo.InvariantCulture) + long.Parse(fields[5], CultureInfo.InvariantCulture);
        return (double)ticks / TicksPerSecond;
    }
}
