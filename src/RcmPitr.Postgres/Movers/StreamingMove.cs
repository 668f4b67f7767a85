using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// The default mode: no data dump. The schema (pre-data, one transaction) first; then every table streams as binary
/// <c>COPY … TO STDOUT</c> → <c>COPY … FROM STDIN</c> under one exported snapshot, largest first, big tables in page ranges
/// side by side, each piece in one target transaction that also records it in the <see cref="MoveLedger"/> (a table in
/// one piece is truncated and loaded with <c>FREEZE</c>); each table's indexes and constraints are built as soon as its rows
/// are in (<see cref="PostDataPlan"/>), foreign keys once both of their tables are complete; then sequence positions and
/// the rest of post-data. A restarted move (<see cref="MoveRequest.Resume"/>) keeps every committed piece and build.
/// </summary>
internal sealed class StreamingMove(MoveTools tools, DataMoverOptions options) : IMoveMode
{
    private const int CopyBufferBytes = 1 << 20;

    public async Task<ModeOutcome> MoveAsync(MoveContext context, CancellationToken outer)
    {
        var (request, meter, scratch) = (context.Request, context.Meter, context.Scratch);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(outer);
        var ct = abort.Token;
        meter.Enter(MovePhases.Schema);
        await using var control = await tools.OpenTargetAsync(request, ct);
        await tools.Sessions.ApplyAsync(context.Session, control, ct);
        var ledger = await MoveLedger.ReadAsync(control, ct);
        if (ledger is not null && !request.Resume)
        {
            throw new MoveNotResumableException($"{request.TargetDatabase} holds an earlier move's work and this move was not asked to resume it.");
        }

        if (ledger is null && !await IsEmptyAsync(control, ct))
        {
            throw new MoveNotResumableException($"{request.TargetDatabase} is not empty and holds no record of what an earlier move committed.");
        }

        // The post-data section (definitions only: kilobytes) is dumped and planned while the schema loads and the data
        // copies; each table's builds wait for the plan, the pool for both.
        var postFile = Path.Combine(scratch, "post-data.dump");
        var postDump = tools.PgDumpAsync(request, ["--format=custom", "--section=post-data", $"--file={postFile}"], ct);
        long schemaBytes = 0;
        if (ledger is null)
        {
            var preFile = Path.Combine(scratch, "pre-data.dump");
            await tools.PgDumpAsync(request, ["--format=custom", "--section=pre-data", $"--file={preFile}"], ct);
            // One transaction: the schema is either all there or not at all, so a restart knows which.
            await tools.PgRestoreAsync(request, context.Session, [.. MoveTools.RestoreArguments, "--single-transaction", preFile], maintenanceWorkMemMb: null, ct);
            schemaBytes += new FileInfo(preFile).Length;
        }

        var sourceId = SourceIdentity(request);
        await using var exporter = await tools.OpenSourceAsync(request, ct);
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

        await using (var reserved = new NpgsqlCommand("SELECT to_regnamespace($1) IS NOT NULL", exporter, snapshotTransaction))
        {
            reserved.Parameters.Add(new NpgsqlParameter { Value = MoveLedger.Schema });
            if ((bool)(await reserved.ExecuteScalarAsync(ct))!)
            {
                throw new NotSupportedException($"The database has a schema named {MoveLedger.Schema}, which the streaming move keeps its ledger in; use the parallel mode.");
            }
        }

        var tables = await SourceTables.ListAsync(exporter, snapshotTransaction, ct);
        var jobs = TenantMover.Jobs(request);
        ledger = ledger is null
            ? await MoveLedger.CreateAsync(control, sourceId, Plan(tables, jobs, request.Source.MajorVersion), ct)
            : Follow(ledger, sourceId, tables, request);
        var existing = request.Resume ? await BuiltObjectsAsync(control, ct) : new BuiltObjects([], []);

        var pool = new WorkPool<Worker>(abort);
        var run = new Run(this, context, pool, ledger, existing, ct);
        meter.Enter(MovePhases.Data);
        meter.SetTables(tables.Count);
        run.Start(tables);
        pool.Track(run.PlanAsync(postDump, postFile, scratch));
        await pool.RunAsync(jobs, () => new Worker(tools, request, context.Session, snapshot));
        await SourceTables.CopySequencesAsync(exporter, snapshotTransaction, control, ct);
        await run.RemainderAsync(control, ct);
        await MoveLedger.DropAsync(control, ct);
        await snapshotTransaction.CommitAsync(ct);
        schemaBytes += new FileInfo(postFile).Length;
        return new ModeOutcome(schemaBytes, run.Bytes, tables.Count, run.BytesKept, run.PiecesKept);
    }

    /// <summary>The pieces of a new plan: a large table in page ranges side by side (PostgreSQL 14 and later scan a ctid range directly).</summary>
    private List<MoveLedger.Piece> Plan(List<SourceTables.Table> tables, int jobs, int majorVersion)
    {
        var total = tables.Sum(t => t.Bytes);
        var minimumPages = options.SplitTablesFromMb * 128L;
        var pieces = new List<MoveLedger.Piece>();
        foreach (var table in tables)
        {
            if (jobs < 2 || majorVersion < 14 || table.Pages < Math.Max(2, minimumPages) || table.Bytes * 2 * jobs < total)
            {
                pieces.Add(new MoveLedger.Piece(MoveLedger.ItemOf(table.Schema, table.Name, null, null), table.Schema, table.Name, null, null, table.Pages, 0, false));
                continue;
            }

            for (var i = 0; i < jobs; i++)
            {
                long? to = i == jobs - 1 ? null : table.Pages * (i + 1) / jobs;
                var from = table.Pages * i / jobs;
                pieces.Add(new MoveLedger.Piece(MoveLedger.ItemOf(table.Schema, table.Name, from, to), table.Schema, table.Name, from, to, table.Pages, 0, false));
            }
        }

        return pieces;
    }

    /// <summary>An earlier attempt's plan, followed only when the source is the one it was made from and has not changed since.</summary>
    private static MoveLedger Follow(MoveLedger ledger, string sourceId, List<SourceTables.Table> tables, MoveRequest request)
    {
        if (ledger.Source != sourceId)
        {
            throw new MoveNotResumableException($"{request.TargetDatabase} holds an earlier move from another source ({ledger.Source}).");
        }

        var planned = ledger.Pieces.GroupBy(p => (p.Schema, p.Table)).ToDictionary(g => g.Key, g => g.First().TablePages);
        var now = tables.ToDictionary(t => (t.Schema, t.Name), t => t.Pages);
        if (planned.Count != now.Count || planned.Any(p => !now.TryGetValue(p.Key, out var pages) || pages != p.Value))
        {
            throw new MoveNotResumableException($"the source of {request.TargetDatabase} changed since the earlier move planned its pieces.");
        }

        return ledger;
    }

    // The source of a move is a restored server nobody writes to: its name and database identify it, and its tables'
    // sizes (checked by Follow) show that it has not changed.
    private static string SourceIdentity(MoveRequest request) => $"{request.Source.Name}/{request.SourceDatabase}";

    private MoveTools Tools => tools;

    private DataMoverOptions Options => options;

    private static async Task<bool> IsEmptyAsync(NpgsqlConnection target, CancellationToken ct)
    {
        await using var check = new NpgsqlCommand(
            """
            SELECT NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname NOT LIKE 'pg\_%')
               AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public')
               AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname <> 'plpgsql')
            """,
            target);
        return (bool)(await check.ExecuteScalarAsync(ct))!;
    }

    private sealed record BuiltObjects(HashSet<(string Schema, string Name)> Indexes, HashSet<(string Schema, string Table, string Name)> Constraints)
    {
        public bool Contains(PostDataPlan.BuiltObject o) =>
            o.Table is null ? Indexes.Contains((o.Schema, o.Name)) : Constraints.Contains((o.Schema, o.Table, o.Name));
    }

    /// <summary>The indexes and constraints an earlier attempt built (each build is one transaction: it is there or not).</summary>
    private static async Task<BuiltObjects> BuiltObjectsAsync(NpgsqlConnection target, CancellationToken ct)
    {
        var indexes = new HashSet<(string, string)>();
        var constraints = new HashSet<(string, string, string)>();
        await using (var list = new NpgsqlCommand("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I')", target))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                indexes.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        await using (var list = new NpgsqlCommand("SELECT n.nspname, t.relname, co.conname FROM pg_constraint co JOIN pg_class t ON t.oid = co.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace", target))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                constraints.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        return new BuiltObjects(indexes, constraints);
    }

    /// <summary>The state of one move's data and build phase: which pieces are left per table, which tables are complete.</summary>
    private sealed class Run(StreamingMove owner, MoveContext context, WorkPool<Worker> pool, MoveLedger ledger, BuiltObjects existing, CancellationToken ct)
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<(string, string), int> _piecesLeft = [];
        private readonly HashSet<(string, string)> _complete = [];
        private readonly List<(string, string)> _awaitingPlan = [];
        private readonly List<PostDataPlan.ForeignKey> _foreignKeys = [];
        private PostDataPlan? _plan;
        private PostDataScript? _script;
        private string? _postFile;
        private bool _foreignKeyRunning;
        private int _piecesLeftTotal;
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public long BytesKept { get; private set; }

        public int PiecesKept { get; private set; }

        private MoveMeter Meter => context.Meter;

        /// <summary>Dumps, lists and plans the post-data section, then releases the builds of tables already copied.</summary>
        public async Task PlanAsync(Task postDump, string postFile, string scratch)
        {
            await postDump;
            var listFile = Path.Combine(scratch, "post-data.list");
            var scriptFile = Path.Combine(scratch, "post-data.sql");
            await owner.Tools.PgRestoreToFileAsync(context.Request, ["--list", postFile], listFile, ct);
            await owner.Tools.PgRestoreToFileAsync(context.Request, [.. MoveTools.RestoreArguments, $"--use-list={listFile}", postFile], scriptFile, ct);
            var listing = await File.ReadAllLinesAsync(listFile, ct);
            var script = PostDataScript.TryParse(listing, await File.ReadAllTextAsync(scriptFile, ct));
            File.Delete(scriptFile);
            if (script is null)
            {
                Meter.Note("post-data statements could not be matched to the listing: each item runs with pg_restore -L");
            }

            PostDataPlan plan;
            await using (var source = await owner.Tools.OpenSourceAsync(context.Request, ct))
            {
                plan = await PostDataPlan.CreateAsync(source, listing, script, ct);
            }

            List<(string, string)> ready;
            lock (_gate)
            {
                _plan = plan;
                _script = script;
                _postFile = postFile;
                _foreignKeys.AddRange(plan.ForeignKeys.Where(k => !existing.Contains(k.Build.Creates)));
                ready = [.. _awaitingPlan];
                _awaitingPlan.Clear();
            }

            // Tables that have no data to copy (no columns) are complete as soon as their builds are.
            foreach (var table in plan.Tables.Keys.Concat(plan.ForeignKeys.SelectMany(k => new[] { k.Table, k.Referenced })).Distinct())
            {
                lock (_gate)
                {
                    if (_piecesLeft.ContainsKey(table) || ready.Contains(table))
                    {
                        continue;
                    }
                }

                ready.Add(table);
            }

            foreach (var table in ready)
            {
                Build(table);
            }
        }

        /// <summary>Queues every piece not yet committed; tables an earlier attempt finished go straight to their builds.</summary>
        public void Start(List<SourceTables.Table> tables)
        {
            var byTable = tables.ToDictionary(t => (t.Schema, t.Name));
            var copied = new List<(string, string)>();
            lock (_gate)
            {
                foreach (var group in ledger.Pieces.GroupBy(p => (p.Schema, p.Table)))
                {
                    var left = group.Count(p => !p.Done);
                    _piecesLeft[group.Key] = left;
                    _piecesLeftTotal += left;
                    BytesKept += group.Where(p => p.Done).Sum(p => p.Bytes);
                    PiecesKept += group.Count(p => p.Done);
                    if (left == 0)
                    {
                        copied.Add(group.Key);
                    }
                }
            }

            if (PiecesKept > 0)
            {
                Meter.Note(string.Create(CultureInfo.InvariantCulture, $"resumed: {PiecesKept} of {ledger.Pieces.Count} pieces ({BytesKept} bytes) were committed by an earlier attempt"));
            }

            long expected = 0;
            foreach (var piece in ledger.Pieces.Where(p => !p.Done))
            {
                var table = byTable[(piece.Schema, piece.Table)];
                expected += piece.Whole || table.Pages == 0 ? table.DataBytes : table.DataBytes * ((piece.To ?? table.Pages) - (piece.From ?? 0)) / table.Pages;
                pool.AddCopy(worker => CopyAsync(table, piece, worker));
            }

            Meter.SetTotalBytes(expected);

            if (_piecesLeftTotal == 0)
            {
                Meter.Enter(MovePhases.Indexes);
            }

            foreach (var table in copied)
            {
                Meter.TableDone();
                Build(table);
            }
        }

        private async Task CopyAsync(SourceTables.Table table, MoveLedger.Piece piece, Worker worker)
        {
            var source = await worker.SourceAsync(ct);
            var target = await worker.TargetAsync(ct);
            var name = table.Qualified;
            var read = piece.Whole
                ? $"COPY {name} ({table.Columns}) TO STDOUT (FORMAT binary)"
                : string.Create(
                    CultureInfo.InvariantCulture,
                    $"COPY (SELECT {table.Columns} FROM {name} WHERE ctid >= '({piece.From ?? 0},0)'::tid{(piece.To is { } end ? $" AND ctid < '({end},0)'::tid" : string.Empty)}) TO STDOUT (FORMAT binary)");
            long moved = 0;
            Meter.Note("copy start " + piece.Item);
            try
            {
                await using var transaction = await target.BeginTransactionAsync(ct);
                if (piece.Whole)
                {
                    // Emptied in this transaction, the table can take its rows frozen: no later pass rewrites every page to freeze them.
                    await using var truncate = new NpgsqlCommand($"TRUNCATE ONLY {name}", target, transaction);
                    await truncate.ExecuteNonQueryAsync(ct);
                }

                await using (var from = await source.BeginRawBinaryCopyAsync(read, ct))
                await using (var to = await target.BeginRawBinaryCopyAsync($"COPY {name} ({table.Columns}) FROM STDIN (FORMAT binary{(piece.Whole ? ", FREEZE" : string.Empty)})", ct))
                {
                    var buffer = worker.Buffer;
                    int count;
                    while ((count = await from.ReadAsync(buffer, ct)) > 0)
                    {
                        await to.WriteAsync(buffer.AsMemory(0, count), ct);
                        moved += count;
                        Meter.AddBytes(count);
                    }
                }

                await MoveLedger.MarkDoneAsync(target, transaction, piece.Item, moved, ct);
                await transaction.CommitAsync(ct);
            }
            catch (PostgresException e)
            {
                throw RedactedPostgresException.From(e, "copying " + piece.Item);
            }

            Interlocked.Add(ref _bytes, moved);
            Meter.Note("copy end " + piece.Item);
            bool last;
            lock (_gate)
            {
                last = --_piecesLeft[(table.Schema, table.Name)] == 0;
                if (--_piecesLeftTotal == 0)
                {
                    Meter.Enter(MovePhases.Indexes);
                }
            }

            if (last)
            {
                Meter.TableDone();
                Build((table.Schema, table.Name));
            }
        }

        /// <summary>Queues a copied table's builds: exclusive constraints, then indexes side by side, then attachments.</summary>
        private void Build((string Schema, string Table) table)
        {
            PostDataPlan.TableWork? work;
            lock (_gate)
            {
                if (_plan is null)
                {
                    _awaitingPlan.Add(table);
                    return;
                }

                work = _plan.Tables.GetValueOrDefault(table);
            }

            if (work is null)
            {
                Complete(table);
                return;
            }

            var constraints = work.Constraints.Where(c => !existing.Contains(c.Creates)).ToList();
            var indexes = work.Indexes.Where(i => !existing.Contains(i.Creates) && !(i.AttachSql is not null && existing.Contains(i.Creates with { Table = table.Table }))).ToList();
            var attaches = work.Attaches.Where(a => !existing.Contains(a.Creates with { Table = table.Table })).ToList();

            void Attaches()
            {
                if (attaches.Count == 0)
                {
                    Complete(table);
                    return;
                }

                pool.AddBuild(long.MaxValue, async worker =>
                {
                    var label = $"attach {attaches.Count} constraint(s) of {PgQuote.Qualified(table.Schema, table.Table)}";
                    Meter.Note("build start " + label);
                    await worker.ExecuteAsync(string.Concat(attaches.Select(a => a.AttachSql + "\n")), owner.Options.RestoreMaintenanceWorkMemMb, false, ct);
                    Meter.Note("build end " + label);
                    Complete(table);
                });
            }

            void Indexes()
            {
                if (indexes.Count == 0)
                {
                    Attaches();
                    return;
                }

                var left = indexes.Count;
                foreach (var index in indexes)
                {
                    pool.AddBuild(index.Cost, async worker =>
                    {
                        await RunBuildAsync(index, worker);
                        if (Interlocked.Decrement(ref left) == 0)
                        {
                            Attaches();
                        }
                    });
                }
            }

            if (constraints.Count == 0)
            {
                Indexes();
                return;
            }

            pool.AddBuild(constraints.Sum(c => c.Cost), async worker =>
            {
                foreach (var constraint in constraints)
                {
                    await RunBuildAsync(constraint, worker);
                }

                Indexes();
            });
        }

        /// <summary>A table is complete: its foreign keys may go once the other table is complete too.</summary>
        private void Complete((string Schema, string Table) table)
        {
            lock (_gate)
            {
                _complete.Add(table);
            }

            PumpForeignKeys();
        }

        /// <summary>Foreign keys one at a time (each locks both of its tables against the other's builds), biggest first.</summary>
        private void PumpForeignKeys()
        {
            PostDataPlan.ForeignKey? next;
            lock (_gate)
            {
                if (_foreignKeyRunning)
                {
                    return;
                }

                next = _foreignKeys.FirstOrDefault(k => _complete.Contains(k.Table) && _complete.Contains(k.Referenced));
                if (next is null)
                {
                    return;
                }

                _foreignKeys.Remove(next);
                _foreignKeyRunning = true;
            }

            pool.AddBuild(next.Build.Cost, async worker =>
            {
                await RunBuildAsync(next.Build, worker);
                lock (_gate)
                {
                    _foreignKeyRunning = false;
                }

                PumpForeignKeys();
            });
        }

        private async Task RunBuildAsync(PostDataPlan.Build build, Worker worker)
        {
            var memory = build.Gin ? owner.Options.GinMaintenanceWorkMemMb : owner.Options.RestoreMaintenanceWorkMemMb;
            Meter.Note("build start " + build.Label);
            if (build.Sql is { } sql)
            {
                await worker.ExecuteAsync(sql, memory, _plan!.HasGin, ct);
            }
            else
            {
                await RestoreListedAsync([build.Line], memory, singleTransaction: false);
            }

            Meter.Note("build end " + build.Label);
        }

        /// <summary>The rest of post-data (triggers, comments, …) in one transaction that also records it done.</summary>
        public async Task RemainderAsync(NpgsqlConnection control, CancellationToken token)
        {
            var plan = _plan!;
            lock (_gate)
            {
                if (_foreignKeys.Count > 0)
                {
                    throw new InvalidOperationException($"{_foreignKeys.Count} foreign key(s) were never built: a table of theirs was not copied.");
                }
            }

            if (ledger.PostDataDone)
            {
                return;
            }

            var statements = plan.Remainder.Select(l => _script?.Statements.GetValueOrDefault(l)).ToList();
            if (plan.Remainder.Count > 0 && statements.Any(s => s is null))
            {
                await RestoreListedAsync(plan.Remainder, owner.Options.RestoreMaintenanceWorkMemMb, singleTransaction: true);
            }

            await using var transaction = await control.BeginTransactionAsync(token);
            if (plan.Remainder.Count > 0 && statements.All(s => s is not null))
            {
                Meter.Note($"build start {plan.Remainder.Count} other post-data item(s)");
                await using var run = new NpgsqlCommand(string.Concat(statements), control, transaction) { CommandTimeout = 0 };
                await run.ExecuteNonQueryAsync(token);
                Meter.Note("build end other post-data items");
            }

            await MoveLedger.MarkDoneAsync(control, transaction, "post-data", 0, token);
            await transaction.CommitAsync(token);
        }

        private async Task RestoreListedAsync(IReadOnlyList<string> lines, int maintenanceWorkMemMb, bool singleTransaction)
        {
            var list = Path.Combine(context.Scratch, $"items-{Guid.NewGuid():N}.list");
            await File.WriteAllLinesAsync(list, lines, ct);
            try
            {
                await owner.Tools.PgRestoreAsync(
                    context.Request, context.Session, [.. MoveTools.RestoreArguments, .. singleTransaction ? new[] { "--single-transaction" } : [], $"--use-list={list}", _postFile!], maintenanceWorkMemMb, ct);
            }
            finally
            {
                File.Delete(list);
            }
        }
    }

    /// <summary>One worker's connections, opened on first use: the source inside the shared snapshot, the target as a loading session.</summary>
    private sealed class Worker(MoveTools tools, MoveRequest request, LoadingSession session, string snapshot) : IAsyncDisposable
    {
        private NpgsqlConnection? _source;
        private NpgsqlConnection? _target;

        public byte[] Buffer { get; } = new byte[CopyBufferBytes];

        public async Task<NpgsqlConnection> SourceAsync(CancellationToken ct)
        {
            if (_source is null)
            {
                _source = await tools.OpenSourceAsync(request, ct);
                await using var begin = new NpgsqlCommand($"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {PgQuote.Literal(snapshot)}", _source);
                await begin.ExecuteNonQueryAsync(ct);
            }

            return _source;
        }

        public async Task<NpgsqlConnection> TargetAsync(CancellationToken ct)
        {
            if (_target is null)
            {
                _target = await tools.OpenTargetAsync(request, ct);
                await tools.Sessions.ApplyAsync(session, _target, ct);
            }

            return _target;
        }

        /// <summary>Runs build statements with <paramref name="maintenanceWorkMemMb"/>; no parallel workers of its own beside a GIN build.</summary>
        public async Task ExecuteAsync(string sql, int maintenanceWorkMemMb, bool besideGin, CancellationToken ct)
        {
            var target = await TargetAsync(ct);
            var settings = string.Create(
                CultureInfo.InvariantCulture,
                $"SET maintenance_work_mem = '{maintenanceWorkMemMb}MB';{(besideGin ? " SET max_parallel_maintenance_workers = 0;" : string.Empty)}\n");
            try
            {
                await using var command = new NpgsqlCommand(settings + sql, target) { CommandTimeout = 0 };
                await command.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException e)
            {
                throw RedactedPostgresException.From(e, "building indexes and constraints");
            }
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
}
