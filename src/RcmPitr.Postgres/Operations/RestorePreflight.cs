using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// The runbook's prerequisites, checked before anything is moved: pg_dump and pg_restore at the servers'
/// major version, scratch space ≥ <see cref="DataMoverOptions.ScratchSafetyFactor"/> × the database size (a dump mode) or
/// <see cref="StreamingScratchBytes"/> (streaming; it also refuses large objects, which streaming does not move),
/// and every extension of the tenant database available (and, on Azure, allow-listed) on the live server.
/// All checks run; the failure lists every problem found. Read-only, so idempotent.
/// </summary>
public sealed class RestorePreflight(PgConnector connector, PgToolLocator tools, DataMoverOptions options)
{
    /// <summary>Scratch space the streaming transfer requires: its pre- and post-data schema files only.</summary>
    public const long StreamingScratchBytes = 64L * 1024 * 1024;

    /// <summary>Runs the checks; throws <see cref="PreflightFailedException"/> listing every failed one.</summary>
    public async Task<PreflightResult> CheckAsync(PreflightInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var database = TenantDatabaseNames.For(TenantSlug.Parse(input.Tenant)).OwnOrCanonical(input.SourceDatabase, "sourceDatabase");
        var problems = new List<string>();

        await using var source = await OpenSourceAsync(input.Source, database, cancellationToken);
        await using var live = await connector.OpenMaintenanceAsync(input.Live, cancellationToken);
        var sourceMajor = await MajorVersionAsync(source, cancellationToken);
        var liveMajor = await MajorVersionAsync(live, cancellationToken);
        if (sourceMajor != liveMajor)
        {
            problems.Add($"the source server is PostgreSQL {sourceMajor} but the live server is PostgreSQL {liveMajor}; a point-in-time copy must come from the same major version");
        }

        var pgDump = await TryLocateAsync("pg_dump", sourceMajor, problems, cancellationToken);
        var pgRestore = await TryLocateAsync("pg_restore", liveMajor, problems, cancellationToken);

        var size = await new ServerCatalog(source).SizeAsync(database, cancellationToken);
        try
        {
            ScratchFiles.EnsurePrivateDirectory(options, options.ScratchDirectory);
        }
        catch (UnsafeDirectoryException e)
        {
            problems.Add(e.Message);
        }

        var free = Directory.Exists(options.ScratchDirectory) ? new DriveInfo(Path.GetFullPath(options.ScratchDirectory)).AvailableFreeSpace : 0;
        // Streaming writes only the schema definitions to scratch; the dump modes need room for the data too.
        var required = input.Transfer == TransferMode.Streaming ? StreamingScratchBytes : (long)Math.Ceiling(size * options.ScratchSafetyFactor);
        if (free < required)
        {
            problems.Add(input.Transfer == TransferMode.Streaming
                ? string.Create(CultureInfo.InvariantCulture, $"scratch folder {options.ScratchDirectory} has {free} bytes free; the streaming transfer needs {required} bytes for schema files")
                : string.Create(
                    CultureInfo.InvariantCulture,
                    $"scratch folder {options.ScratchDirectory} has {free} bytes free; {options.ScratchSafetyFactor}x the database size ({size} bytes) = {required} bytes are required"));
        }

        if (input.Transfer == TransferMode.Streaming)
        {
            await using var blobs = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_largeobject_metadata", source);
            var count = (long)(await blobs.ExecuteScalarAsync(cancellationToken))!;
            if (count > 0)
            {
                problems.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"the tenant database has {count} large objects, which the streaming transfer does not move; start the restore with transfer 'parallel' or 'runbook'"));
            }
        }

        var extensions = await CheckExtensionsAsync(source, live, problems, cancellationToken);
        if (problems.Count > 0)
        {
            throw new PreflightFailedException(problems);
        }

        return new PreflightResult(sourceMajor, liveMajor, pgDump!.VersionText, pgRestore!.VersionText, size, free, required, extensions);
    }

    private async Task<NpgsqlConnection> OpenSourceAsync(DbServerInfo server, string database, CancellationToken cancellationToken)
    {
        try
        {
            return await connector.OpenAsync(server, database, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            throw new PreflightFailedException([
                $"the tenant database {database} does not exist on server {server.Name}; is the restore time before the tenant was provisioned?",
            ]);
        }
    }

    private async Task<PgTool?> TryLocateAsync(string name, int major, List<string> problems, CancellationToken cancellationToken)
    {
        try
        {
            return await tools.LocateAsync(name, major, cancellationToken);
        }
        catch (PreflightFailedException e)
        {
            problems.AddRange(e.Problems);
            return null;
        }
    }

    private static async Task<int> MajorVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT current_setting('server_version_num')::int / 10000", connection);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<IReadOnlyList<ExtensionCheck>> CheckExtensionsAsync(
        NpgsqlConnection source, NpgsqlConnection live, List<string> problems, CancellationToken cancellationToken)
    {
        var used = new List<(string Name, string Version)>();
        await using (var command = new NpgsqlCommand("SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname", source))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                used.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var available = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT name FROM pg_available_extensions", live))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                available.Add(reader.GetString(0));
            }
        }

        // Azure Flexible Server only lets CREATE EXTENSION run for names in the azure.extensions parameter.
        await using var allowCommand = new NpgsqlCommand("SELECT current_setting('azure.extensions', true)", live);
        var allowList = (await allowCommand.ExecuteScalarAsync(cancellationToken)) as string;
        var allowed = string.IsNullOrWhiteSpace(allowList)
            ? null
            : allowList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);

        var checks = new List<ExtensionCheck>();
        foreach (var (name, version) in used)
        {
            var ok = available.Contains(name);
            if (!ok)
            {
                problems.Add($"extension '{name}' ({version}) is used by the tenant database but is not installed on the live server; install its package there first");
            }
            else if (allowed is not null && !allowed.Contains(name))
            {
                ok = false;
                problems.Add($"extension '{name}' is not in the live server's azure.extensions allow-list; add it to the server parameter first");
            }

            checks.Add(new ExtensionCheck(name, version, ok));
        }

        return checks;
    }
}
