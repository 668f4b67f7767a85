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
    private static readonly string[] ListedRestoreArguments = ["--no-owner", "--no-privileges", "--exit-on-error"];
    private int _lists;

    /// <summary>Runs the move; <paramref name="meter"/>, when given, is kept current for whoever watches it.</summary>
    public async Task<MoveResult> MoveAsync(MoveRequest request, MoveMeter? meter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        PgIdentifierRules.RequireDatabaseName(request.SourceDatabase, "sourceDatabase");
        PgIdentifierRules.RequireDatabaseName(request.TargetDatabase, "targetDatabase");
        meter ??= new MoveMeter();
        var scratch = Path.Combine(options.RunDirectory(RunIds.Require(request.RunId)), "move-" + request.Mode.ToString().ToLowerInvariant());
        ScratchFiles.EnsurePrivateDirectory(options, scratch);
        if (Directory.EnumerateFileSystemEntries(scratch).Any())
        {
            // Left by an attempt that was killed: its files are of no use to this one.
            Directory.Delete(scratch, recursive: true);
            ScratchFiles.EnsurePrivateDirectory(options, scratch);
        }
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
        catch (PostgresException e)
        {
            // The server's text can quote the row it rejected; only its redacted form leaves the mover.
            throw RedactedPostgresException.From(e, $"moving {request.SourceDatabase} into {request.TargetDatabase}");
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
        await PgRestoreToolAsync(request, [.. RunbookCommands.RestoreArguments, $"--jobs={Math.Max(1, options.RestoreJobs)}", file], maintenanceWorkMemMb: null, ct);
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
        await PgRestoreToolAsync(request, [.. ListedRestoreArguments, $"--jobs={jobs}", directory], options.RestoreMaintenanceWorkMemMb, ct);
        return (size, size, await CountTablesAsync(request, ct));
    }

    private async Task<(long Peak, long Bytes, int Tables)> StreamingAsync(MoveRequest request, string scratch, MoveMeter meter, CancellationToken ct)
    {
        // Schema first (definitions only: kilobytes), then the data straight across; each table's indexes and
        // constraints are built as soon as its rows are in, while other tables still copy; then the rest.
        meter.Enter(MovePhases.Schema);
        var postFile = Path.Combine(scratch, "post-data.dump");
        var preData = MoveSectionAsync(request, "pre-data", scratch, jobs: 1, ct);
        var postDump = PgDumpAsync(request, ["--format=custom", "--section=post-data", $"--file={postFile}"], ct);
        await Task.WhenAll(preData, postDump);
        var schemaBytes = await preData;
        var listFile = Path.Combine(scratch, "post-data.list");
        await PgRestoreListAsync(request, postFile, listFile, ct);
        schemaBytes += new FileInfo(postFile).Length + new FileInfo(listFile).Length;
        PostDataPlan plan;
        await using (var source = await connector.OpenAsync(request.Source, request.SourceDatabase, ct))
        {
            plan = await PostDataPlan.CreateAsync(source, await File.ReadAllLinesAsync(listFile, ct), ct);
        }

        meter.Enter(MovePhases.Data);
        var (tables, bytes) = await RunDataAsync(request, meter, new PostData(plan, postFile, scratch), ct);
        meter.Enter(MovePhases.Indexes);
        await RestoreListedAsync(request, new PostData(plan, postFile, scratch), plan.Remainder, Jobs(request), options.RestoreMaintenanceWorkMemMb, ct);
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
        await PgRestoreToolAsync(request, [.. ListedRestoreArguments, $"--jobs={Math.Max(1, jobs)}", file], section == "post-data" ? options.RestoreMaintenanceWorkMemMb : null, ct);
        File.Delete(file);
        return size;
    }

    /// <summary>
    /// The data phase alone (the benchmark's floor): parallel binary COPY out → in under one exported snapshot,
    /// large tables split into page ranges, then the sequences.
    /// </summary>
    public Task<(int Tables, long Bytes)> CopyDataAsync(MoveRequest request, MoveMeter? meter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunDataAsync(request, meter, post: null, ct);
    }

    private async Task<(int Tables, long Bytes)> RunDataAsync(MoveRequest request, MoveMeter? meter, PostData? post, CancellationToken outer)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(outer);
        var ct = abort.Token;
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
        var jobs = Jobs(request);
        var pool = new WorkPool();
        var chunksLeft = new Dictionary<SourceTable, int>();
        var totalBytes = tables.Sum(t => t.Bytes);
        long bytes = 0;
        foreach (var table in tables)
        {
            var ranges = PageRanges(table, totalBytes, jobs, request.Source.MajorVersion, options.SplitTablesFromMb * 128L);
            chunksLeft[table] = ranges.Count;
            foreach (var range in ranges)
            {
                pool.AddCopy(worker => CopyAsync(table, range, worker));
            }
        }

        async Task CopyAsync(SourceTable table, (long From, long? To)? range, WorkerConnections connections)
        {
            var (source, target) = await connections.OpenAsync(ct);
            var name = PgQuote.Qualified(table.Schema, table.Table);
            var read = range is not { } r
                ? $"COPY {name} ({table.Columns}) TO STDOUT (FORMAT binary)"
                : string.Create(
                    CultureInfo.InvariantCulture,
                    $"COPY (SELECT {table.Columns} FROM {name} WHERE ctid >= '({r.From},0)'::tid{(r.To is { } end ? $" AND ctid < '({end},0)'::tid" : string.Empty)}) TO STDOUT (FORMAT binary)");
            long moved = 0;
            var buffer = connections.Buffer;
            var label = range is { } part ? string.Create(CultureInfo.InvariantCulture, $"{name} pages {part.From}-{part.To?.ToString(CultureInfo.InvariantCulture) ?? "end"}") : name;
            meter?.Note("copy start " + label);
            try
            {
                await using var from = await source.BeginRawBinaryCopyAsync(read, ct);
                await using var to = await target.BeginRawBinaryCopyAsync($"COPY {name} ({table.Columns}) FROM STDIN (FORMAT binary)", ct);
                int count;
                while ((count = await from.ReadAsync(buffer, ct)) > 0)
                {
                    await to.WriteAsync(buffer.AsMemory(0, count), ct);
                    moved += count;
                    meter?.AddBytes(count);
                }
            }
            catch (PostgresException e)
            {
                throw RedactedPostgresException.From(e, "copying " + label);
            }

            Interlocked.Add(ref bytes, moved);
            meter?.Note("copy end " + label);
            bool last;
            lock (chunksLeft)
            {
                last = --chunksLeft[table] == 0;
            }

            if (last)
            {
                meter?.TableDone();
                if (post is not null && post.Plan.Tables.TryGetValue((table.Schema, table.Table), out var work))
                {
                    ScheduleBuilds(table, work);
                }
            }
        }

        void ScheduleBuilds(SourceTable table, PostDataPlan.TableWork work)
        {
            void Indexes()
            {
                foreach (var index in work.Indexes)
                {
                    var memory = index.Gin ? options.GinMaintenanceWorkMemMb : options.RestoreMaintenanceWorkMemMb;
                    pool.AddBuild(index.Cost, async _ =>
                    {
                        meter?.Note("build start " + index.Line);
                        await RestoreListedAsync(request, post!, [index.Line], 1, memory, ct);
                        meter?.Note("build end " + index.Line);
                    });
                }
            }

            if (work.Constraints.Count == 0)
            {
                Indexes();
                return;
            }

            // Constraints take an exclusive lock on the table: build them first, then the indexes side by side.
            pool.AddBuild(table.Bytes, async _ =>
            {
                meter?.Note($"build start {work.Constraints.Count} constraints of {table.Schema}.{table.Table}");
                await RestoreListedAsync(request, post!, work.Constraints.Select(c => c.Line).ToList(), 1, options.RestoreMaintenanceWorkMemMb, ct);
                meter?.Note($"build end constraints of {table.Schema}.{table.Table}");
                Indexes();
            });
        }

        await pool.RunAsync(jobs, () => new WorkerConnections(connector, request, snapshot), abort);
        await CopySequencesAsync(exporter, snapshotTransaction, request, ct);
        await snapshotTransaction.CommitAsync(ct);
        return (tables.Count, bytes);
    }

    /// <summary>
    /// A large table is copied in page ranges side by side (PostgreSQL 14 and later scan a ctid range directly);
    /// null is the whole table in one COPY.
    /// </summary>
    private static List<(long From, long? To)?> PageRanges(SourceTable table, long totalBytes, int jobs, int majorVersion, long minimumPages)
    {
        if (jobs < 2 || majorVersion < 14 || table.Pages < Math.Max(2, minimumPages) || table.Bytes * 2 * jobs < totalBytes)
        {
            return [null];
        }

        var ranges = new List<(long From, long? To)?>();
        for (var i = 0; i < jobs; i++)
        {
            ranges.Add((table.Pages * i / jobs, i == jobs - 1 ? null : table.Pages * (i + 1) / jobs));
        }

        return ranges;
    }

    private async Task RestoreListedAsync(MoveRequest request, PostData post, IReadOnlyList<string> lines, int jobs, int maintenanceWorkMemMb, CancellationToken ct)
    {
        if (lines.Count == 0)
        {
            return;
        }

        var list = Path.Combine(post.Scratch, $"items-{Interlocked.Increment(ref _lists)}.list");
        await File.WriteAllLinesAsync(list, lines, ct);
        try
        {
            await PgRestoreToolAsync(request, [.. ListedRestoreArguments, $"--jobs={Math.Max(1, jobs)}", $"--use-list={list}", post.DumpFile], maintenanceWorkMemMb, ct);
        }
        finally
        {
            File.Delete(list);
        }
    }

    private async Task<int> CountTablesAsync(MoveRequest request, CancellationToken ct)
    {
        await using var source = await connector.OpenAsync(request.Source, request.SourceDatabase, ct);
        await using var transaction = await source.BeginTransactionAsync(ct);
        return (await ListTablesAsync(source, transaction, ct)).Count;
    }

    private static async Task<List<SourceTable>> ListTablesAsync(NpgsqlConnection source, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT n.nspname, c.relname,
                   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
                   pg_relation_size(c.oid), pg_relation_size(c.oid) / current_setting('block_size')::bigint
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND c.relpersistence <> 't'
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY pg_total_relation_size(c.oid) DESC, n.nspname, c.relname
            """,
            source,
            transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var tables = new List<SourceTable>();
        while (await reader.ReadAsync(ct))
        {
            if (!reader.IsDBNull(2))
            {
                tables.Add(new SourceTable(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4)));
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
        using var environment = await PgToolEnvironment.CreateAsync(connector, request.Source, ct);
        await RunToolAsync("pg_dump", new ProcessSpec(pgDump.Path, ["--no-password", $"--dbname={request.SourceDatabase}", .. arguments], environment.Variables), ct);
    }

    private async Task PgRestoreToolAsync(MoveRequest request, IReadOnlyList<string> arguments, int? maintenanceWorkMemMb, CancellationToken ct)
    {
        var pgRestore = await tools.LocateAsync("pg_restore", request.Target.MajorVersion, ct);
        using var environment = await PgToolEnvironment.CreateAsync(connector, request.Target, ct);
        var variables = new Dictionary<string, string>(environment.Variables);
        if (maintenanceWorkMemMb is { } memory)
        {
            // The loading sessions only: the new database is not live until cutover, and a crash mid-load redoes it.
            variables["PGOPTIONS"] = string.Create(CultureInfo.InvariantCulture, $"-c synchronous_commit=off -c maintenance_work_mem={memory}MB");
        }

        await RunToolAsync("pg_restore", new ProcessSpec(pgRestore.Path, ["--no-password", $"--dbname={request.TargetDatabase}", .. arguments], variables), ct);
    }

    /// <summary>Writes the table of contents of <paramref name="dump"/> to <paramref name="listFile"/> (no connection: it reads the file).</summary>
    private async Task PgRestoreListAsync(MoveRequest request, string dump, string listFile, CancellationToken ct)
    {
        var pgRestore = await tools.LocateAsync("pg_restore", request.Target.MajorVersion, ct);
        await RunToolAsync("pg_restore", new ProcessSpec(pgRestore.Path, ["--list", $"--file={listFile}", dump]), ct);
    }

    private async Task RunToolAsync(string tool, ProcessSpec spec, CancellationToken ct)
    {
        var result = await processes.RunAsync(spec, ct);
        if (result.ExitCode != 0)
        {
            throw PgToolFailures.For(tool, result.ExitCode, result.StandardError);
        }
    }

    private static int Jobs(MoveRequest request) => request.Jobs > 0 ? request.Jobs : Environment.ProcessorCount;

    private sealed record SourceTable(string Schema, string Table, string Columns, long Bytes, long Pages);

    private sealed record PostData(PostDataPlan Plan, string DumpFile, string Scratch);

    /// <summary>One worker's connections for copying, opened on its first copy: the source inside the shared snapshot.</summary>
    private sealed class WorkerConnections(PgConnector connector, MoveRequest request, string snapshot) : IAsyncDisposable
    {
        private NpgsqlConnection? _source;
        private NpgsqlConnection? _target;

        public byte[] Buffer { get; } = new byte[CopyBufferBytes];

        public async Task<(NpgsqlConnection Source, NpgsqlConnection Target)> OpenAsync(CancellationToken ct)
        {
            if (_source is null || _target is null)
            {
                _source = await connector.OpenAsync(request.Source, request.SourceDatabase, ct);
                _target = await connector.OpenAsync(request.Target, request.TargetDatabase, ct);
                await using (var setup = new NpgsqlCommand("SET synchronous_commit = off", _target))
                {
                    await setup.ExecuteNonQueryAsync(ct);
                }

                await using (var begin = new NpgsqlCommand($"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {PgQuote.Literal(snapshot)}", _source))
                {
                    await begin.ExecuteNonQueryAsync(ct);
                }
            }

            return (_source, _target);
        }

        public async ValueTask DisposeAsync()
        {
            if (_source is not null)
            {
                await _source.DisposeAsync();
            }

            if (_target is not null)
            {
                await _target.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The workers of a streaming move: copies (largest first) and builds (indexes and constraints of tables already
    /// copied, biggest first; preferred, since they are the long pole). A build may add builds; the pool ends when
    /// nothing is queued or running. The first failure stops every worker and is rethrown.
    /// </summary>
    private sealed class WorkPool
    {
        private readonly Lock _gate = new();
        private readonly Queue<Func<WorkerConnections, Task>> _copies = new();
        private readonly PriorityQueue<Func<WorkerConnections, Task>, long> _builds = new();
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _running;
        private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _failure;

        public void AddCopy(Func<WorkerConnections, Task> copy)
        {
            lock (_gate)
            {
                _copies.Enqueue(copy);
                Signal();
            }
        }

        public void AddBuild(long cost, Func<WorkerConnections, Task> build)
        {
            lock (_gate)
            {
                _builds.Enqueue(build, -cost);
                Signal();
            }
        }

        public async Task RunAsync(int workers, Func<WorkerConnections> connections, CancellationTokenSource abort)
        {
            await Task.WhenAll(Enumerable.Range(0, Math.Max(1, workers)).Select(_ => WorkerAsync(connections(), abort)));
            _failure?.Throw();
            abort.Token.ThrowIfCancellationRequested();
        }

        private async Task WorkerAsync(WorkerConnections connections, CancellationTokenSource abort)
        {
            await using var owned = connections;
            while (!abort.IsCancellationRequested)
            {
                Func<WorkerConnections, Task>? job = null;
                Task changed;
                lock (_gate)
                {
                    if (_builds.TryDequeue(out job, out _) || _copies.TryDequeue(out job))
                    {
                        _running++;
                    }
                    else if (_running == 0)
                    {
                        Signal();
                        return;
                    }

                    changed = _changed.Task;
                }

                if (job is null)
                {
                    try
                    {
                        await changed.WaitAsync(abort.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    continue;
                }

                try
                {
                    await job(connections);
                }
                catch (Exception e)
                {
                    lock (_gate)
                    {
                        _failure ??= e is OperationCanceledException && abort.IsCancellationRequested ? null : System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                    }

                    await abort.CancelAsync();
                    return;
                }
                finally
                {
                    lock (_gate)
                    {
                        _running--;
                        Signal();
                    }
                }
            }
        }

        private void Signal()
        {
            var changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
        }
    }
}
