using System.Diagnostics;
using System.Text;
using Grpc.Net.Client;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Grpc;
using Microsoft.DurableTask.Converters;
using Microsoft.Extensions.Logging.Abstractions;
using RcmPitr.Functions.Composition;

namespace RcmPitr.Durability.Tests;

/// <summary>
/// One run of <c>RcmPitr.DurableStorage.TestHost</c> (built beside the tests) on a task hub, and a Durable Task client
/// connected to its sidecar. The storage connection string goes through the environment, never the command line.
/// </summary>
public sealed class StorageHostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private GrpcChannel? _channel;

    private StorageHostProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    /// <summary>A client of the task hub through this host (with the Functions app's payload JSON).</summary>
    public DurableTaskClient Client { get; private set; } = null!;

    /// <summary>What the host logged (warnings and errors), for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static async Task<StorageHostProcess> StartAsync(string connectionString, string taskHub, string activityLog)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "RcmPitr.DurableStorage.TestHost.dll"));
        start.Environment["RCMPITR_STORAGE_CONNECTION"] = connectionString;
        start.Environment["RCMPITR_TASK_HUB"] = taskHub;
        start.Environment["RCMPITR_ACTIVITY_LOG"] = activityLog;
        var host = new StorageHostProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start the storage test host"));
        var address = await host.WaitForReadyAsync();
        host._channel = GrpcChannel.ForAddress(address);
        host.Client = new GrpcDurableTaskClient(
            "tests",
            new GrpcDurableTaskClientOptions { Channel = host._channel, DataConverter = new JsonDataConverter(FunctionsServices.Json) },
            NullLogger.Instance);
        return host;
    }

    /// <summary>SIGKILL: no shutdown code runs; leases, messages and the sidecar die with the process.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }

        _channel?.Dispose();
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private async Task<string> WaitForReadyAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await _process.StandardOutput.ReadLineAsync(limit.Token) is { } line)
            {
                if (line.StartsWith("ready ", StringComparison.Ordinal))
                {
                    // Keep draining stdout so the host can never block on a full pipe.
                    _ = _process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                    return line["ready ".Length..];
                }
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            await KillAsync();
            throw new TimeoutException($"The storage test host was not ready within 60 s: {Log}");
        }

        await _process.WaitForExitAsync();
        throw new InvalidOperationException($"The storage test host exited ({_process.ExitCode}) before it was ready: {Log}");
    }
}
