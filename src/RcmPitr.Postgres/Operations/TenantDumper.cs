using System.Globalization;
using Microsoft.Extensions.Logging;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Runbook step 3: <c>pg_dump -Fc -Z 6</c> of the one tenant database from the PITR server into the run's
/// private scratch folder. The dump is written under a temporary name and renamed only once pg_dump
/// succeeded and the file is on disk, beside a checksum file; so a file under the final name is always
/// complete, and a re-run after a crash either reuses a verified dump or starts over cleanly.
/// </summary>
public sealed partial class TenantDumper(
    PgConnector connector, PgToolLocator tools, IProcessRunner processes, DataMoverOptions options, ILogger<TenantDumper> logger)
{
    /// <summary>The dump's path for a run (deterministic: a re-run overwrites, never duplicates).</summary>
    public string DumpPathFor(string runId, TenantSlug slug, RestoreStamp stamp) => options.DumpPath(runId, slug, stamp);

    /// <summary>Dumps the tenant database, or returns the verified dump an earlier attempt finished.</summary>
    public async Task<DumpTenantResult> DumpAsync(DumpTenantInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var slug = TenantSlug.Parse(input.Tenant);
        var stamp = RestoreStamp.Parse(input.Stamp);
        var database = TenantDatabaseNames.For(slug).OwnOrCanonical(input.SourceDatabase, "sourceDatabase");
        var runDirectory = options.RunDirectory(RunIds.Require(input.RunId));
        var path = DumpPathFor(input.RunId, slug, stamp);
        var checksumPath = path + ".sha256";
        var partial = path + ".partial";
        ScratchFiles.EnsurePrivateDirectory(options, runDirectory);

        if (await TryReuseAsync(path, checksumPath, cancellationToken) is { } reused)
        {
            LogReused(logger, database, reused.SizeBytes);
            return reused;
        }

        File.Delete(partial);
        File.Delete(checksumPath);
        var pgDump = await tools.LocateAsync("pg_dump", input.Source.MajorVersion, cancellationToken);
        using (var environment = await PgToolEnvironment.CreateAsync(connector, input.Source, cancellationToken))
        {
            string[] arguments = [.. RunbookCommands.DumpArguments(options.CompressionLevel), "--no-password", $"--dbname={database}", $"--file={partial}"];
            LogStarting(logger, database, input.Source.Name);
            ProcessResult result;
            try
            {
                result = await processes.RunAsync(new ProcessSpec(pgDump.Path, arguments, environment.Variables), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                File.Delete(partial);
                throw;
            }

            if (result.ExitCode != 0)
            {
                File.Delete(partial);
                throw PgToolFailures.For("pg_dump", result.ExitCode, result.StandardError);
            }
        }

        File.SetUnixFileMode(partial, ScratchFiles.PrivateFile);
        ScratchFiles.Fsync(partial);
        var size = new FileInfo(partial).Length;
        var sha256 = await ScratchFiles.Sha256Async(partial, cancellationToken);
        await ScratchFiles.WriteAtomicallyAsync(checksumPath, $"{sha256} {size.ToString(CultureInfo.InvariantCulture)}\n", cancellationToken);
        File.Move(partial, path, overwrite: true);
        LogFinished(logger, database, size);
        return new DumpTenantResult(path, size, sha256, Reused: false);
    }

    /// <summary>Deletes the run's scratch folder (dumps, checksums, stray temporary files).</summary>
    public Task<DeleteDumpResult> DeleteAsync(DeleteDumpInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runDirectory = options.RunDirectory(RunIds.Require(input.RunId));
        if (!Directory.Exists(runDirectory))
        {
            return Task.FromResult(new DeleteDumpResult(0, 0));
        }

        var files = Directory.EnumerateFiles(runDirectory, "*", SearchOption.AllDirectories).Select(f => new FileInfo(f)).ToList();
        var bytes = files.Sum(f => f.Length);
        Directory.Delete(runDirectory, recursive: true);
        return Task.FromResult(new DeleteDumpResult(files.Count, bytes));
    }

    private static async Task<DumpTenantResult?> TryReuseAsync(string path, string checksumPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(path) || !File.Exists(checksumPath))
        {
            return null;
        }

        var recorded = (await File.ReadAllTextAsync(checksumPath, cancellationToken)).Split(' ', StringSplitOptions.TrimEntries);
        var size = new FileInfo(path).Length;
        if (recorded.Length != 2 || recorded[1] != size.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }

        // Verify rather than trust: the file may have been damaged since it was written.
        var actual = await ScratchFiles.Sha256Async(path, cancellationToken);
        return actual == recorded[0] ? new DumpTenantResult(path, size, actual, Reused: true) : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dumping {Database} from server {Server}")]
    private static partial void LogStarting(ILogger logger, string database, string server);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dumped {Database}: {SizeBytes} bytes")]
    private static partial void LogFinished(ILogger logger, string database, long sizeBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reusing the verified dump of {Database} from an earlier attempt ({SizeBytes} bytes)")]
    private static partial void LogReused(ILogger logger, string database, long sizeBytes);
}
