using System.Collections.Concurrent;
using RcmPitr.Postgres.Processes;

namespace RcmPitr.Postgres.Tests.Fixtures;

/// <summary>
/// Runs programs for real and records what was run. When <see cref="CrashTool"/> is set, that tool is
/// killed (process tree, like a dying worker) <see cref="CrashAfter"/> after it starts, and the call
/// throws as a crashed activity would.
/// </summary>
public sealed class RecordingProcessRunner(IProcessRunner inner) : IProcessRunner
{
    public ConcurrentQueue<ProcessSpec> Started { get; } = new();
    public ConcurrentQueue<(string Path, UnixFileMode Mode)> PassFileSnapshots { get; } = new();
    public string? CrashTool { get; set; }
    public TimeSpan CrashAfter { get; set; } = TimeSpan.FromMilliseconds(300);

    public async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken)
    {
        Started.Enqueue(spec);
        if (spec.Environment?.TryGetValue("PGPASSFILE", out var passFile) == true && File.Exists(passFile))
        {
            PassFileSnapshots.Enqueue((passFile, File.GetUnixFileMode(passFile)));
        }

        if (CrashTool is null || Path.GetFileName(spec.FileName) != CrashTool || spec.Arguments.Contains("--version"))
        {
            return await inner.RunAsync(spec, cancellationToken);
        }

        using var crash = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        crash.CancelAfter(CrashAfter);
        try
        {
            var result = await inner.RunAsync(spec, crash.Token);
            throw new InvalidOperationException($"{CrashTool} finished before the simulated crash (exit {result.ExitCode}); make the test data larger");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SimulatedCrashException(CrashTool);
        }
    }
}

public sealed class SimulatedCrashException(string tool) : Exception($"simulated crash while {tool} was running");
