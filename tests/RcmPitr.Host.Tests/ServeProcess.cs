using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RcmPitr.Postgres.Processes;

namespace RcmPitr.Host.Tests;

/// <summary>
/// <c>rcm-pitr serve --config &lt;file&gt;</c> as a real child process (the CLI build output the test project copies
/// beside itself), listening on a free loopback port. Its stdout and stderr are captured whole, for the secret checks.
/// <see cref="KillAsync"/> is a SIGKILL of the host alone: no shutdown code runs, and the programs it started (pg_dump,
/// pg_restore) are left running as a crashed host leaves them. Disposing kills whatever of this host still runs.
/// </summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private const string ListeningLine = "RcmPitr embedded host listening on";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(int Pid, string StartTicks)> _orphans = [];

    private ServeProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    /// <summary>The API's base address.</summary>
    public Uri Address { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the host on <paramref name="configFile"/> and waits until it listens.</summary>
    public static async Task<ServeProcess> StartAsync(string configFile, string workingDirectory)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "rcm-pitr.dll");
        if (!File.Exists(program) || !File.Exists(Path.ChangeExtension(program, ".runtimeconfig.json")))
        {
            throw new InvalidOperationException($"{program} (with its runtimeconfig) is missing: the test project must reference src/RcmPitr.Cli so its build output is copied");
        }

        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(program);
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(configFile);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(address.ToString().TrimEnd('/'));
        // Only the configuration file configures this host: nothing inherited from the test runner's environment.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("RcmPitr__", StringComparison.OrdinalIgnoreCase)
                                                              || k.StartsWith("RCMPITR_", StringComparison.OrdinalIgnoreCase)
                                                              || k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start rcm-pitr serve");
        var serve = new ServeProcess(process, address);
        process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var exited = process.WaitForExitAsync(timeout.Token);
            var first = await Task.WhenAny(serve._listening.Task, exited, Task.Delay(Timeout.Infinite, timeout.Token));
            if (first != serve._listening.Task)
            {
                throw new InvalidOperationException(
                    $"rcm-pitr serve did not start listening ({(process.HasExited ? $"exited with {process.ExitCode}" : "timed out")}):\n{serve.Output}");
            }
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }

        return serve;
    }

    /// <summary>An HTTP client of this host presenting <paramref name="apiKey"/>.</summary>
    public HttpClient Client(string apiKey)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("x-functions-key", apiKey);
        return client;
    }

    /// <summary>
    /// SIGKILLs the host process alone and waits until it is gone. The programs it had started are remembered, so that
    /// <see cref="OrphansStillRunning"/> can tell whether any outlived the run and disposal can end them.
    /// </summary>
    public async Task KillAsync()
    {
        // Stopped first, so that it starts no program between the look at its children and its death.
        await SignalAsync(_process.Id, "STOP");
        var running = Descendants(_process.Id);
        _orphans.AddRange(running);
        ProgramsAtKill = running.Select(p => Name(p.Pid)).ToList();
        _process.Kill(entireProcessTree: false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>The names of the programs the host had started that were running when it was killed.</summary>
    public IReadOnlyList<string> ProgramsAtKill { get; private set; } = [];

    /// <summary>The programs the killed host had started that still run.</summary>
    public IReadOnlyList<int> OrphansStillRunning() => _orphans.Where(IsSameProcessAlive).Select(o => o.Pid).ToList();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _orphans.AddRange(Descendants(_process.Id));
            _process.Kill(entireProcessTree: false);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(timeout.Token);
        }

        foreach (var orphan in _orphans.Where(IsSameProcessAlive))
        {
            try
            {
                using var process = Process.GetProcessById(orphan.Pid);
                process.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Ended on its own meanwhile.
            }
        }

        _process.Dispose();
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })
                         ?? throw new InvalidOperationException("could not run kill");
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} exited with {kill.ExitCode}");
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.Contains(ListeningLine, StringComparison.Ordinal))
        {
            _listening.TrySetResult();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Every process below <paramref name="root"/>, with its start time (so a reused pid is never mistaken for it).</summary>
    private static List<(int Pid, string StartTicks)> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        var starts = new Dictionary<int, string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || Stat(pid) is not { } stat)
            {
                continue;
            }

            starts[pid] = stat.StartTicks;
            if (!children.TryGetValue(stat.Parent, out var list))
            {
                children[stat.Parent] = list = [];
            }

            list.Add(pid);
        }

        var found = new List<(int, string)>();
        var pending = new Stack<int>([root]);
        while (pending.TryPop(out var pid))
        {
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                found.Add((child, starts[child]));
                pending.Push(child);
            }
        }

        return found;
    }

    private static bool IsSameProcessAlive((int Pid, string StartTicks) process) => Stat(process.Pid) is { } stat && stat.StartTicks == process.StartTicks && stat.State != "Z";

    private static string Name(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "(ended)";
        }
    }

    /// <summary>Parent, state and start time from <c>/proc/&lt;pid&gt;/stat</c>.</summary>
    private static (int Parent, string State, string StartTicks)? Stat(int pid) =>
        ProcStat.TryRead(pid) is { } stat ? ((int)stat.Number(4), stat.Field(3), stat.Field(22)) : null;
}
