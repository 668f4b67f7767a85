using System.Globalization;
using Microsoft.Extensions.Logging;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Runbook step 4: create <c>tenant_&lt;x&gt;_restore_&lt;stamp&gt;</c> (or the snapshot mode's <c>_asof_</c>) on the live server and pg_restore the dump
/// into it (<c>--clean --if-exists --no-owner --no-privileges</c>). The database is marked "loading" when
/// created and "loaded" (with the dump's checksum) when pg_restore succeeded. A re-run finds a finished
/// load and reuses it; an interrupted one is dropped and redone. Only the suffixed database is ever
/// dropped here — the canonical one is not even a name this class can compute for dropping.
/// </summary>
public sealed partial class RestoreDatabaseLoader(
    PgConnector connector, PgToolLocator tools, IProcessRunner processes, DataMoverOptions options, ILogger<RestoreDatabaseLoader> logger)
{
    /// <summary>Loads the dump, or returns the load an earlier attempt of this run finished.</summary>
    public async Task<RestoreDatabaseResult> LoadAsync(RestoreDatabaseInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var stamp = RestoreStamp.Parse(input.Stamp);
        var slug = TenantSlug.Parse(input.Tenant);
        var names = TenantDatabaseNames.For(slug);
        var target = RestoreTargets.NameFor(names, stamp, runId, input.Target);
        // The path is this run's, computed here: a path from the input could point pg_restore at any file.
        var dumpPath = options.DumpPath(runId, slug, stamp);
        if (!string.IsNullOrEmpty(input.DumpPath) && Path.GetFullPath(input.DumpPath) != Path.GetFullPath(dumpPath))
        {
            throw new InvalidRestoreInputException("dumpPath", $"{input.DumpPath} is not this run's dump; the dump step writes {dumpPath}");
        }

        if (!File.Exists(dumpPath))
        {
            throw new InvalidRestoreInputException("dumpPath", $"the dump {dumpPath} does not exist (was the run's scratch folder cleaned?)");
        }

        await using var maintenance = await connector.OpenMaintenanceAsync(input.Live, cancellationToken);
        var catalog = new ServerCatalog(maintenance);
        if (await RestoreTargets.PrepareAsync(
                connector, catalog, names, target, runId, stamp, m => m.IsLoadedBy(runId) && m.Sha256 == input.DumpSha256, () => LogDroppingPartial(logger, target), cancellationToken))
        {
            LogReused(logger, target);
            var again = await ApplyOwnershipAsync(input, names, target, cancellationToken);
            return new RestoreDatabaseResult(target, await catalog.SizeAsync(target, cancellationToken), Reused: true) { Ownership = again };
        }

        await RunPgRestoreAsync(input, dumpPath, target, cancellationToken);
        var ownership = await ApplyOwnershipAsync(input, names, target, cancellationToken);
        await catalog.SetMarkerAsync(target, new DatabaseMarker(DatabaseMarker.Loaded, runId, stamp.Value, input.DumpSha256), cancellationToken);
        var size = await catalog.SizeAsync(target, cancellationToken);
        LogLoaded(logger, target, size);
        return new RestoreDatabaseResult(target, size, Reused: false) { Ownership = ownership };
    }

    /// <summary>pg_restore ran with <c>--no-owner --no-privileges</c>: the copy gets live's before it is marked loaded.</summary>
    private async Task<OwnershipSummary> ApplyOwnershipAsync(RestoreDatabaseInput input, TenantDatabaseNames names, string target, CancellationToken cancellationToken)
    {
        var summary = await LiveOwnership.ApplyFromLiveAsync(connector, input.Live, [names.Canonical], target, cancellationToken);
        LogOwnership(logger, target, summary.Owners.Values.Sum(), summary.Privileges.Values.Sum(), summary.MissingInCopy, summary.OnlyInCopy);
        return summary;
    }

    private async Task RunPgRestoreAsync(RestoreDatabaseInput input, string dumpPath, string target, CancellationToken cancellationToken)
    {
        var pgRestore = await tools.LocateAsync("pg_restore", input.Live.MajorVersion, cancellationToken);
        using var environment = await PgToolEnvironment.CreateAsync(connector, input.Live, cancellationToken);
        string[] arguments =
        [
            .. RunbookCommands.RestoreArguments,
            "--no-password",
            $"--jobs={Math.Max(1, options.RestoreJobs).ToString(CultureInfo.InvariantCulture)}",
            $"--dbname={target}",
            dumpPath,
        ];

        // Verified as late as possible: pg_restore runs whatever a dump holds, as the server admin, and the scratch
        // folder may be shared storage. The checksum is the one the dump step returned, carried by the workflow.
        var actual = await ScratchFiles.Sha256Async(dumpPath, cancellationToken);
        if (!string.Equals(actual, input.DumpSha256, StringComparison.OrdinalIgnoreCase))
        {
            LogDumpChanged(logger, dumpPath);
            throw new DumpVerificationFailedException(dumpPath, input.DumpSha256, actual);
        }

        LogStarting(logger, target);
        var result = await processes.RunAsync(new ProcessSpec(pgRestore.Path, arguments, environment.Variables), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw PgToolFailures.For("pg_restore", result.ExitCode, result.StandardError);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Restoring the dump into {Database}")]
    private static partial void LogStarting(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Database}: {SizeBytes} bytes")]
    private static partial void LogLoaded(ILogger logger, string database, long sizeBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Gave {Database} live's owners and privileges: {Owners} owners set, {Privileges} grants/revokes; {Missing} live objects not in the copy, {OnlyInCopy} copy objects not in live")]
    private static partial void LogOwnership(ILogger logger, string database, int owners, int privileges, int missing, int onlyInCopy);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Database} was already loaded by an earlier attempt of this run")]
    private static partial void LogReused(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Error, Message = "The dump {Path} changed after the dump step wrote it (checksum differs); it is not loaded")]
    private static partial void LogDumpChanged(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropping {Database}: an earlier attempt left it partly loaded")]
    private static partial void LogDroppingPartial(ILogger logger, string database);
}
