using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// The data and build phase of one streaming move: queues every piece not yet committed, then each table's builds as
/// soon as its rows are in (exclusive constraints, then indexes side by side, then attachments), and each foreign key
/// once both of its tables are complete; then the rest of post-data in one transaction with its ledger mark.
/// </summary>
internal sealed class StreamingSchedule(
    MoveTools tools, DataMoverOptions options, MoveContext context, WorkPool<StreamingWorker> pool, MoveLedger ledger, BuiltObjects existing, CopyPacer pacer, CancellationToken ct)
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
    private int _ginPending;
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
        await tools.PgRestoreToFileAsync(context.Request, ["--list", postFile], listFile, ct);
        await tools.PgRestoreToFileAsync(context.Request, [.. MoveTools.RestoreArguments, $"--use-list={listFile}", postFile], scriptFile, ct);
        var listing = await File.ReadAllLinesAsync(listFile, ct);
        var script = PostDataScript.TryParse(listing, await File.ReadAllTextAsync(scriptFile, ct));
        File.Delete(scriptFile);
        if (script is null)
        {
            Meter.Note("post-data statements could not be matched to the listing: each item runs with pg_restore -L");
        }

        PostDataPlan plan;
        await using (var source = await tools.OpenSourceAsync(context.Request, ct))
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
            _ginPending = plan.Tables.Values.Sum(t => t.Indexes.Count(i => i.Gin && !existing.Contains(i.Creates)));
            // The pacer weighs the builds still to run by their indexes' size on the source (foreign keys not counted).
            pacer.BuildsPlanned(plan.Tables.Sum(t =>
            {
                var (constraints, indexes, _) = Pending(t.Value, t.Key.Table);
                return constraints.Concat(indexes).Where(b => !b.Gin).Sum(b => b.Cost);
            }));
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
            expected += Expected(table, piece);
            pool.AddCopy(worker => CopyAsync(table, piece, worker));
        }

        Meter.SetTotalBytes(expected);
        pacer.SetTotalBytes(expected);

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

    /// <summary>The bytes a piece is expected to move: its share of the table's size on the source.</summary>
    private static long Expected(SourceTables.Table table, MoveLedger.Piece piece) =>
        piece.Whole || table.Pages == 0 ? table.DataBytes : table.DataBytes * ((piece.To ?? table.Pages) - (piece.From ?? 0)) / table.Pages;

    private async Task CopyAsync(SourceTables.Table table, MoveLedger.Piece piece, StreamingWorker worker)
    {
        var source = await worker.SourceAsync(ct);
        var target = await worker.TargetAsync(ct);
        var name = table.Qualified;
        var read = piece.Whole ? CopyRelay.ReadSql(name, table.Columns, null, null) : CopyRelay.ReadSql(name, table.Columns, piece.From ?? 0, piece.To);
        long moved;
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

            // Every WindowBytes the pacer says whether to wait, and how long, after the working time of that window.
            var (window, reported) = (0L, 0L);
            var windowStart = TimeProvider.System.GetTimestamp();
            async ValueTask Moved(int count)
            {
                Meter.AddBytes(count);
                if ((window += count) < CopyPacer.WindowBytes)
                {
                    return;
                }

                var pause = pacer.PauseAfter(window, TimeProvider.System.GetElapsedTime(windowStart));
                reported += window;
                if (pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause, ct);
                }

                (window, windowStart) = (0, TimeProvider.System.GetTimestamp());
            }

            moved = await CopyRelay.RunAsync(source, read, target, CopyRelay.WriteSql(name, table.Columns, freeze: piece.Whole), worker.Buffer, Moved, ct);
            await MoveLedger.MarkDoneAsync(target, transaction, piece.Item, moved, ct);
            await transaction.CommitAsync(ct);
            pacer.PieceDone(Expected(table, piece), moved, reported);
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

        var (constraints, indexes, attaches) = Pending(work, table.Table);

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
                await worker.ExecuteAsync(string.Concat(attaches.Select(a => a.AttachSql + "\n")), options.RestoreMaintenanceWorkMemMb, false, ct);
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

    /// <summary>A table's builds that an earlier attempt did not finish: constraints, indexes, attachments.</summary>
    private (List<PostDataPlan.Build> Constraints, List<PostDataPlan.Build> Indexes, List<PostDataPlan.Build> Attaches) Pending(PostDataPlan.TableWork work, string table) => (
        work.Constraints.Where(c => !existing.Contains(c.Creates)).ToList(),
        work.Indexes.Where(i => !existing.Contains(i.Creates) && !(i.AttachSql is not null && existing.Contains(i.Creates with { Table = table }))).ToList(),
        work.Attaches.Where(a => !existing.Contains(a.Creates with { Table = table })).ToList());

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
            await RunBuildAsync(next.Build, worker, foreignKey: true);
            lock (_gate)
            {
                _foreignKeyRunning = false;
            }

            PumpForeignKeys();
        });
    }

    private async Task RunBuildAsync(PostDataPlan.Build build, StreamingWorker worker, bool foreignKey = false)
    {
        var memory = build.Gin ? options.GinMaintenanceWorkMemMb : options.RestoreMaintenanceWorkMemMb;
        Meter.Note("build start " + build.Label);
        var started = TimeProvider.System.GetTimestamp();
        if (build.Sql is { } sql)
        {
            // While a GIN build is still to come or running, other builds take no parallel workers from it (the GIN build
            // itself keeps the server's: PostgreSQL 18 builds GIN in parallel), and the copies beside it are paced while
            // they have time to spare.
            // On a target of this same machine, this process (relaying the copies) also steps back while it runs.
            var backend = build.Gin ? (await worker.TargetAsync(ct)).ProcessID : 0;
            using var yielding = build.Gin && options.YieldCpuBesideGin > 0 && CpuYield.SharesThisMachine(context.Request.Target.Fqdn)
                ? CpuYield.Process.Enter(options.YieldCpuBesideGin, Meter.Note)
                : null;
            if (build.Gin)
            {
                pacer.GinStarted(backend);
            }

            try
            {
                await worker.ExecuteAsync(sql, memory, !build.Gin && Volatile.Read(ref _ginPending) > 0, ct);
            }
            finally
            {
                if (build.Gin)
                {
                    pacer.GinEnded(backend);
                }
            }
        }
        else
        {
            await RestoreListedAsync([build.Line], memory, singleTransaction: false);
        }

        if (build.Gin)
        {
            Interlocked.Decrement(ref _ginPending);
        }
        else if (!foreignKey)
        {
            pacer.BuildDone(TimeProvider.System.GetElapsedTime(started).TotalSeconds, build.Cost);
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
            // pg_restore commits on its own, before the mark: an attempt that started it and left no mark may or may not
            // have committed it, and running it twice fails on objects that exist — so that case starts over.
            if (ledger.PostDataStarted)
            {
                throw new MoveNotResumableException("an earlier attempt was restoring the rest of post-data with pg_restore and left no record of its end.");
            }

            await MoveLedger.MarkPostDataStartedAsync(control, token);
            await RestoreListedAsync(plan.Remainder, options.RestoreMaintenanceWorkMemMb, singleTransaction: true);
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
            await tools.PgRestoreAsync(
                context.Request, context.Session, [.. MoveTools.RestoreArguments, .. singleTransaction ? new[] { "--single-transaction" } : [], $"--use-list={list}", _postFile!], maintenanceWorkMemMb, ct);
        }
        finally
        {
            File.Delete(list);
        }
    }
}
