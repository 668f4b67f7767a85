using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Provisioning;
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
/// every extension of the tenant database available (and, on Azure, allow-listed) on the live server, room for the copy on
/// the live server (a full server takes every sibling down), and for a snapshot the per-server cap of kept snapshots.
/// All checks run; the failure lists every problem found. Read-only, so idempotent.
/// </summary>
public sealed class RestorePreflight(PgConnector connector, PgToolLocator tools, DataMoverOptions options, IServerProvisioner? provisioner = null)
{
    /// <summary>Scratch space the streaming transfer requires: its pre- and post-data schema files only.</summary>
    public const long StreamingScratchBytes = 64L * 1024 * 1024;

    /// <summary>Runs the checks; throws <see cref="PreflightFailedException"/> listing every failed one.</summary>
    public async Task<PreflightResult> CheckAsync(PreflightInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var database = TenantDatabaseNames.For(TenantSlug.Parse(input.Tenant)).OwnOrCanonical(input.SourceDatabase, "sourceDatabase");
        var problems = new List<string>();

        await using var source = await OpenSourceAsync(input.Source, database, restored: input.Source.Name != input.Live.Name, cancellationToken);
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
        var (liveFree, storageNote) = await CheckLiveStorageAsync(input.Live, live, size, problems, cancellationToken);
        if (input.Snapshot)
        {
            await CheckSnapshotCapAsync(input.Live, live, problems, cancellationToken);
        }

        if (problems.Count > 0)
        {
            throw new PreflightFailedException(problems);
        }

        return new PreflightResult(sourceMajor, liveMajor, pgDump!.VersionText, pgRestore!.VersionText, size, free, required, extensions)
        {
            LiveFreeBytes = liveFree,
            LiveStorage = storageNote,
        };
    }

    /// <summary>
    /// The copy lands on the live server beside every sibling: it must fit with <see cref="DataMoverOptions.LiveStorageHeadroomPercent"/>
    /// of the storage still free afterwards. Free space comes from the provisioner, or its capacity minus what the server's
    /// databases take; when neither is known the check is skipped and says so.
    /// </summary>
    private async Task<(long? Free, string Note)> CheckLiveStorageAsync(DbServerInfo server, NpgsqlConnection live, long size, List<string> problems, CancellationToken cancellationToken)
    {
        var storage = provisioner is null ? ServerStorage.Unknown : await provisioner.GetStorageAsync(server, cancellationToken);
        var free = storage.FreeBytes;
        if (free is null && storage.CapacityBytes is { } capacity)
        {
            await using var used = new NpgsqlCommand("SELECT coalesce(sum(pg_database_size(oid)), 0)::bigint FROM pg_database", live);
            free = capacity - (long)(await used.ExecuteScalarAsync(cancellationToken))!;
        }

        if (free is not { } known)
        {
            return (null, $"not checked: the storage of {server.Name} is unknown to its provisioner");
        }

        var needed = (long)Math.Ceiling(size * options.LiveCopySizeFactor);
        var reserve = storage.CapacityBytes is { } total ? (long)Math.Ceiling(total * options.LiveStorageHeadroomPercent / 100) : 0;
        var note = string.Create(CultureInfo.InvariantCulture,
            $"{known} bytes free on {server.Name}; the copy needs about {needed} bytes ({options.LiveCopySizeFactor}x {size}) and {reserve} bytes must stay free");
        if (known - needed < reserve)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"the live server {server.Name} has {known} bytes free; a copy of the tenant database needs about {needed} bytes ({options.LiveCopySizeFactor}x its {size} bytes) and " +
                $"{reserve} bytes ({options.LiveStorageHeadroomPercent} % of its storage) must stay free — a full server turns read-only for every tenant on it. Free space or grow the storage first"));
        }

        return (known, note);
    }

    private async Task CheckSnapshotCapAsync(DbServerInfo server, NpgsqlConnection live, List<string> problems, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            @"SELECT count(*) FROM pg_database WHERE datname ~ '_asof_[0-9]{12}([0-9]{2})?(_[0-9a-f]{6})?$' AND shobj_description(oid, 'pg_database') LIKE 'rcm-pitr:%'",
            live);
        var kept = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        if (kept >= options.MaxSnapshotsPerServer)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"{kept} as-of snapshots are kept on {server.Name} (at most {options.MaxSnapshotsPerServer}, DataMover:MaxSnapshotsPerServer): drop the ones no longer needed first"));
        }
    }

    private async Task<NpgsqlConnection> OpenSourceAsync(DbServerInfo server, string database, bool restored, CancellationToken cancellationToken)
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
        catch (PostgresException e) when (restored && e.SqlState == PostgresErrorCodes.InvalidPassword)
        {
            // A point-in-time restore brings back the whole server as it was at T, its roles and their passwords included. Only
            // a refused password (28P01) means that: 28000 is also "no pg_hba.conf entry", e.g. a firewall not yet open, which
            // stays a transient failure retried like any other.
            throw new PreflightFailedException([
                $"could not log in to the restored server {server.Name} as {server.AdminUser} ({e.SqlState}: {e.MessageText}). A restored server carries " +
                $"the admin password that was valid at the restore time, not the current one in secret {server.AdminSecretRef}: if that password " +
                "was changed after the restore time, restore to a time after the change (RcmPitr does not reset a restored server's admin password)",
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
