using System.Diagnostics;
using System.Text;

namespace RcmPitr.Postgres.Processes;

/// <summary>Runs programs with <see cref="Process"/>, capturing bounded tails of stdout and stderr.</summary>
public sealed class ProcessRunner : IProcessRunner
{
    /// <summary>How much of each stream is kept: enough for an error message, bounded for a chatty tool.</summary>
    public const int MaxCapturedChars = 16 * 1024;

    /// <inheritdoc />
    public async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var startInfo = new ProcessStartInfo(spec.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = spec.WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in spec.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // A minimal environment, not this process's: it holds secrets (RCMPITR_SECRET_*, managed-identity endpoints
        // and headers) that no tool needs. The caller's variables (PG*) come on top.
        startInfo.Environment.Clear();
        foreach (var (key, value) in InheritedEnvironment())
        {
            startInfo.Environment[key] = value;
        }

        foreach (var (key, value) in spec.Environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        using var process = new Process { StartInfo = startInfo };
        var stdout = new BoundedTail(MaxCapturedChars);
        var stderr = new BoundedTail(MaxCapturedChars);
        process.OutputDataReceived += (_, e) => stdout.Append(e.Data);
        process.ErrorDataReceived += (_, e) => stderr.Append(e.Data);

        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {spec.FileName}.");
        }

        // No tool RcmPitr runs reads stdin; closing it makes any prompt fail fast instead of hanging.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            throw;
        }

        // The parameterless wait drains the redirected streams after exit.
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// What a child inherits: the search path, locale and time zone, home and temp folders, and libpq's TLS file
    /// locations (paths, not secrets: <c>PGSSLROOTCERT</c> and the like, which an operator may set for the host).
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> InheritedEnvironment()
    {
        foreach (System.Collections.DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && entry.Value is string value && IsInherited(key))
            {
                yield return new KeyValuePair<string, string>(key, value);
            }
        }
    }

    private static bool IsInherited(string name) =>
        name is "PATH" or "LANG" or "LANGUAGE" or "TZ" or "HOME" or "TMPDIR" or "PGSSLROOTCERT" or "PGSSLCRL" or "PGSSLCRLDIR" or "PGSSLCERT" or "PGSSLKEY"
        || name.StartsWith("LC_", StringComparison.Ordinal);

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private sealed class BoundedTail(int max)
    {
        private readonly StringBuilder _text = new();
        private readonly Lock _gate = new();

        public void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_gate)
            {
                _text.AppendLine(line);
                if (_text.Length > max)
                {
                    _text.Remove(0, _text.Length - max);
                }
            }
        }

        public override string ToString()
        {
            lock (_gate)
            {
                return _text.ToString();
            }
        }
    }
}
