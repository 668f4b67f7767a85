using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RcmPitr.Testing;

namespace RcmPitr.Durability.Tests;

/// <summary>
/// A throwaway Azurite (the Azure Storage emulator, from npm) for a test class: the checkout's copy that
/// scripts/install-prerequisites.sh installs into <c>.tools/azurite</c>, run by Node.js on free loopback ports with its
/// data in a temp folder, stopped and removed at the end. Missing Node.js or Azurite skips the tests locally and fails
/// them when <c>CI=true</c>.
/// </summary>
public sealed class Azurite : IAsyncLifetime
{
    // Azurite's one account and its key, published in Azurite's documentation (not a secret of anything).
    private const string Account = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _missing;

    /// <summary>Where Azurite keeps its data (blobs, queues and tables survive a restart of the hosts using it).</summary>
    public string DataFolder { get; } = Path.Combine(Path.GetTempPath(), "rcmpitr-azurite-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The storage account's connection string, with an explicit endpoint per service.</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    public async ValueTask InitializeAsync()
    {
        var node = FindOnPath("node");
        var script = Path.Combine(FindCheckout(), ".tools", "azurite", "node_modules", "azurite", "dist", "src", "azurite.js");
        if (node is null || !File.Exists(script))
        {
            _missing = node is null
                ? "Node.js (node on PATH) for Azurite"
                : $"Azurite at {script} (scripts/install-prerequisites.sh installs it with npm)";
            return;
        }

        Directory.CreateDirectory(DataFolder);
        int[] ports = [FreePort(), FreePort(), FreePort()];
        var start = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var (service, port) in new[] { ("blob", ports[0]), ("queue", ports[1]), ("table", ports[2]) })
        {
            start.ArgumentList.Add($"--{service}Host");
            start.ArgumentList.Add("127.0.0.1");
            start.ArgumentList.Add($"--{service}Port");
            start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // --location keeps the data on disk (not --inMemoryPersistence); the storage SDKs the provider uses may speak a
        // newer service version than this Azurite knows, hence --skipApiVersionCheck.
        start.ArgumentList.Add("--location");
        start.ArgumentList.Add(DataFolder);
        start.ArgumentList.Add("--skipApiVersionCheck");
        start.ArgumentList.Add("--disableTelemetry");
        start.ArgumentList.Add("--silent");
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start Azurite");
        _process.OutputDataReceived += (_, e) => Collect(e.Data);
        _process.ErrorDataReceived += (_, e) => Collect(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        await WaitUntilListeningAsync(ports);
        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{ports[0]}/{Account};QueueEndpoint=http://127.0.0.1:{ports[1]}/{Account};TableEndpoint=http://127.0.0.1:{ports[2]}/{Account};";
    }

    /// <summary>Skips (locally) or fails (CI) when Node.js or Azurite is not installed.</summary>
    public void Require()
    {
        if (_missing is not null)
        {
            Prerequisites.Missing(_missing);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        if (Directory.Exists(DataFolder))
        {
            Directory.Delete(DataFolder, recursive: true);
        }
    }

    private async Task WaitUntilListeningAsync(int[] ports)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (var port in ports)
        {
            while (true)
            {
                if (_process!.HasExited)
                {
                    throw new InvalidOperationException($"Azurite exited with code {_process.ExitCode}: {Output()}");
                }

                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port, limit.Token);
                    break;
                }
                catch (SocketException)
                {
                    await Task.Delay(100, limit.Token);
                }
                catch (OperationCanceledException) when (limit.IsCancellationRequested)
                {
                    throw new TimeoutException($"Azurite did not listen on port {port} within 60 s: {Output()}");
                }
            }
        }
    }

    private void Collect(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists);

    private static string FindCheckout()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "RcmPitr.Functions.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No checkout (RcmPitr.Functions.sln) above {AppContext.BaseDirectory}.");
    }
}
