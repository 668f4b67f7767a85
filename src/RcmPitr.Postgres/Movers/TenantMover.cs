using System.Diagnostics;
using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// Moves one database from a source server into an existing, empty database on a target server, in one of the
/// <see cref="TransferMode"/>s. The runbook mode runs the runbook's exact commands (<see cref="RunbookCommands"/>);
/// the others keep its policy (no owners, no privileges; every schema object, sequence value, extension and view).
/// </summary>
public sealed class TenantMover(PgConnector connector, PgToolLocator tools, IProcessRunner processes, DataMoverOptions options)
{
    private const int CopyBufferBytes = 1 << 20;

    /// <summary>Runs the move; <paramref name="meter"/>, when given, is kept current for whoever watches it.</summary>
    public async Task<MoveResult> MoveAsync(MoveRequest request, MoveMeter? meter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        PgIdentifierRules.RequireDatabaseName(request.SourceDatabase, "sourceDatabase");
        PgIdentifierRules.RequireDatabaseName(request.TargetDatabase, "targetDatabase");
        meter ??= new MoveMeter();
        var scratch = Path.Combine(options.RunDirectory(RunIds.Require(request.RunId)), "move-" + request.Mode.ToString().ToLowerInvariant());
        if (Directory.Exists(scratch))
        {
            // Left by an attempt that was killed: its files are of no use to this one.
            Directory.Delete(scratch, recursive: true);
        }

        ScratchFiles.EnsurePrivateDirectory(scratch);
        var clock = Stopwatch.StartNew();
        try
        {
            var (peak, bytes, tables) = request.Mode switch
            {
                TransferMode.Runbook => await RunbookAsync(request, scratch, meter, cancellationToken),
                TransferMode.Parallel => await ParallelAsync(request, scratch, meter, cancellationToken),
                TransferMode.Streaming => await StreamingAsync(request, scratch, meter, cancellationToken),
                _ => throw new InvalidRestoreInputException("transfer", $"unknown transfer mode {request.Mode}"),
            };
            meter.Enter(MovePhases.Done);
            return new MoveResult(request.Mode, clock.Elapsed, peak, bytes, tables);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private async Task<(long Peak, long Bytes, int Tables)> RunbookAsync(MoveRequest request, string scratch, MoveMeter meter, CancellationToken ct)
    {
        var file = Path.Combine(scratch, "tenant.dump");
        meter.Enter(MovePhases.Dump, scratch);
        await PgDumpAsync(request, [.. RunbookCommands.DumpArguments(options.CompressionLevel), $"--file={file}"], ct);
        var size = new FileInfo(file).Length;
        meter.SetBytes(size);
        meter.Enter(MovePhases.Restore);
        await PgRestoreAsync(request, [.. RunbookCommands.RestoreArguments, $"--jobs={Math.Max(1, options.RestoreJobs)}", file], tuned: false, ct);
        return (size, size, await CountTablesAsync(request, ct));
    }

    private async Task<(long Peak, long Bytes, int Tables)> ParallelAsync(MoveRequest request, string scratch, MoveMeter meter, CancellationToken ct)
    {
        var directory = Path.Combine(scratch, "tenant.dir");
        var jobs = Jobs(request);
        meter.Enter(MovePhases.Dump, scratch);
        await PgDumpAsync(request, ["--format=directory", "--compress=0", $"--jobs={jobs}", $"--file={directory}"], ct);
        var size = MoveMeter.FolderBytes(directory);
        meter.SetBytes(size);
        meter.Enter(MovePhases.Restore);
        await PgRestoreAsync(request, ["--no-owner", "--no-privileges", "--exit-on-error", $"--jobs={jobs}", directory], tuned: true, ct);
        return (size, size, await CountTablesAsync(request, ct));
    }

    private async Task<(long Peak, long Bytes, int Tables)> StreamingAsync(MoveRequest request, string scratch, MoveMeter meter, CancellationToken ct)
    {
        // Schema first (definitions only: kilobytes), then the data straight across, then indexes and constraints.
        meter.Enter(MovePhases.Schema);
        var schemaBytes = await MoveSectionAsync(request, "pre-data", scratch, jobs: 1, ct);
        meter.Enter(MovePhases.Data);
        var (tables, bytes) = await CopyDataAsync(request, meter, ct);
        meter.Enter(MovePhases.Indexes);
        schemaBytes += await MoveSectionAsync(request, "post-data", scratch, Jobs(request), ct);
        return (schemaBytes, bytes, tables);
    }

    /// <summary>
    /// Dumps one pg_dump section (<c>pre-data</c>: types, tables, functions; <c>post-data</c>: indexes, constraints,
    /// triggers) of the source to a small file and restores it into the target; returns the file's size.
    /// </summary>
    public async Task<long> MoveSectionAsync(MoveRequest request, string section, string scratch, int jobs, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (section is not ("pre-data" or "post-data"))
        {
            throw new ArgumentOutOfRangeException(nameof(section), section, "pre-data or post-data");
        }

        var file = Path.Combine(scratch, section + ".dump");
        await PgDumpAsync(request, ["--format=custom", $"--section={section}", $"--file={file}"], ct);
        var size = new FileInfo(file).Length;
        await PgRestoreAsync(request, ["--no-owner", "--no-privileges", "--exit-on-error", $"--jobs={Math.Max(1, jobs)}", file], tuned: section == "post-data", ct);
        File.Delete(file);
        return size;
    }

    /// <summary>The data phase of streaming, also the benchmark's floor: parallel binary COPY out → in under one snapshot.</summary>
    public async Task<(int Tables, long Bytes)> CopyDataAsync(MoveRequest request, MoveMeter? meter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var exporter = await connector.OpenAsync(request.Source, request.SourceDatabase, ct);
        await using var snapshotTransaction = await exporter.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        string snapshot;
        await using (var export = new NpgsqlCommand("SELECT pg_export_snapshot()", exporter, snapshotTransaction))
        {
            snapshot = (string)(await export.ExecuteScalarAsync(ct))!;
        }

        await using (var blobs = new NpgsqlCommand("SELECT count(*) FROM pg_largeobject_metadata", exporter, snapshotTransaction))
        {
            if ((long)(await blobs.ExecuteScalarAsync(ct))! > 0)
            {
                throw new NotSupportedException("The database has large objects, which streaming does not move; use the parallel mode.");
            }
        }

        var tables = await ListTablesAsync(exporter, snapshotTransaction, ct);
        meter?.SetTables(tables.Count);
        var queue = new Queue<(string Schema, string Table, string Columns)>(tables);
        var gate = new Lock();
        long bytes = 0;

        async Task WorkerAsync()
        {
            await using var source = await connector.OpenAsync(request.Source, request.SourceDatabase, ct);
            await using var target = await connector.OpenAsync(request.Target, request.TargetDatabase, ct);
            await using (var setup = new NpgsqlCommand("SET synchronous_commit = off", target))
            {
                await setup.ExecuteNonQueryAsync(ct);
            }

            await using var transaction = await source.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            await using (var import = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT {PgQuote.Literal(snapshot)}", source, transaction))
            {
                await import.ExecuteNonQueryAsync(ct);
            }

            var buffer = new byte[CopyBufferBytes];
            while (true)
            {
                (string Schema, string Table, string Columns) next;
                lock (gate)
                {
                    if (!queue.TryDequeue(out next))
                    {
                        return;
                    }
                }

                var name = PgQuote.Qualified(next.Schema, next.Table);
                long moved = 0;
                await using (var from = await source.BeginRawBinaryCopyAsync($"COPY {name} ({next.Columns}) TO STDOUT (FORMAT binary)", ct))
                await using (var to = await target.BeginRawBinaryCopyAsync($"COPY {name} ({next.Columns}) FROM STDIN (FORMAT binary)", ct))
                {
                    int read;
                    while ((read = await from.ReadAsync(buffer, ct)) > 0)
                    {
                        await to.WriteAsync(buffer.AsMemory(0, read), ct);
                        moved += read;
                        meter?.AddBytes(read);
                    }
                }

                Interlocked.Add(ref bytes, moved);
                meter?.TableDone();
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(Jobs(request), Math.Max(1, tables.Count))).Select(_ => WorkerAsync()));
        await CopySequencesAsync(exporter, snapshotTransaction, request, ct);
        await snapshotTransaction.CommitAsync(ct);
        return (tables.Count, bytes);
    }

    private async Task<int> CountTablesAsync(MoveRequest request, CancellationToken ct)
    {
        await using var source = await connector.OpenAsync(request.Source, request.SourceDatabase, ct);
        await using var transaction = await source.BeginTransactionAsync(ct);
        return (await ListTablesAsync(source, transaction, ct)).Count;
    }

    private static async Task<List<(string Schema, string Table, string Columns)>> ListTablesAsync(NpgsqlConnection source, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT n.nspname, c.relname,
                   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND c.relpersistence <> 't'
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY pg_total_relation_size(c.oid) DESC, n.nspname, c.relname
            """,
            source,
            transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var tables = new List<(string, string, string)>();
        while (await reader.ReadAsync(ct))
        {
            if (!reader.IsDBNull(2))
            {
                tables.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        return tables;
    }

    private async Task CopySequencesAsync(NpgsqlConnection source, NpgsqlTransaction transaction, MoveRequest request, CancellationToken ct)
    {
        var values = new List<(string Name, long Value, bool Called)>();
        var names = new List<string>();
        await using (var list = new NpgsqlCommand(
            """
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            """,
            source,
            transaction))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                names.Add(PgQuote.Qualified(reader.GetString(0), reader.GetString(1)));
            }
        }

        foreach (var name in names)
        {
            await using var read = new NpgsqlCommand($"SELECT last_value, is_called FROM {name}", source, transaction);
            await using var reader = await read.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            values.Add((name, reader.GetInt64(0), reader.GetBoolean(1)));
        }

        await using var target = await connector.OpenAsync(request.Target, request.TargetDatabase, ct);
        foreach (var (name, value, called) in values)
        {
            await using var set = new NpgsqlCommand("SELECT pg_catalog.setval($1::regclass, $2, $3)", target);
            set.Parameters.Add(new NpgsqlParameter { Value = name });
            set.Parameters.Add(new NpgsqlParameter { Value = value });
            set.Parameters.Add(new NpgsqlParameter { Value = called });
            await set.ExecuteNonQueryAsync(ct);
        }
    }

    private async Task PgDumpAsync(MoveRequest request, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var pgDump = await tools.LocateAsync("pg_dump", request.Source.MajorVersion, ct);
        using var environment = await PgToolEnvironment.CreateAsync(connector, request.Source, options.RunDirectory(request.RunId), ct);
        var result = await processes.RunAsync(new ProcessSpec(pgDump.Path, ["--no-password", $"--dbname={request.SourceDatabase}", .. arguments], environment.Variables), ct);
        if (result.ExitCode != 0)
        {
            throw new PgToolFailedException("pg_dump", result.ExitCode, result.StandardError);
        }
    }

    private async Task PgRestoreAsync(MoveRequest request, IReadOnlyList<string> arguments, bool tuned, CancellationToken ct)
    {
        var pgRestore = await tools.LocateAsync("pg_restore", request.Target.MajorVersion, ct);
        using var environment = await PgToolEnvironment.CreateAsync(connector, request.Target, options.RunDirectory(request.RunId), ct);
        var variables = new Dictionary<string, string>(environment.Variables);
        if (tuned)
        {
            // The loading sessions only: the restore database is not live until cutover, and a crash mid-load redoes it.
            variables["PGOPTIONS"] = string.Create(CultureInfo.InvariantCulture, $"-c synchronous_commit=off -c maintenance_work_mem={options.RestoreMaintenanceWorkMemMb}MB");
        }

        var result = await processes.RunAsync(new ProcessSpec(pgRestore.Path, ["--no-password", $"--dbname={request.TargetDatabase}", .. arguments], variables), ct);
        if (result.ExitCode != 0)
        {
            throw new PgToolFailedException("pg_restore", result.ExitCode, result.StandardError);
        }
    }

    private static int Jobs(MoveRequest request) => request.Jobs > 0 ? request.Jobs : Environment.ProcessorCount;
}
