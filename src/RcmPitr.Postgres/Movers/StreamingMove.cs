using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Operations;
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
    public async Task<ModeOutcome> MoveAsync(MoveContext context, CancellationToken outer)
    {
        var (request, meter, scratch) = (context.Request, context.Meter, context.Scratch);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(outer);
        var ct = abort.Token;
        meter.Enter(MovePhases.Schema);
        await using var control = await tools.OpenTargetAsync(request, ct);
        await tools.Sessions.ApplyAsync(context.Session, control, ct);
        if (request.Resume)
        {
            await EndEarlierSessionsAsync(control, meter, ct);
        }

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
        try
        {
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
            var existing = request.Resume ? await BuiltObjects.ReadAsync(control, ct) : new BuiltObjects([], []);

            var pool = new WorkPool<StreamingWorker>(abort);
            var pacer = new CopyPacer(options.PaceCopiesBesideGin, jobs, TimeProvider.System) { Note = meter.Note };
            var run = new StreamingSchedule(tools, options, context, pool, ledger, existing, pacer, ct);
            meter.Enter(MovePhases.Data);
            meter.SetTables(tables.Count);
            run.Start(tables);
            pool.Track(run.PlanAsync(postDump, postFile, scratch));
            // The control connection idles while the pool runs: it reads the GIN builds' progress for the pacer meanwhile.
            using (var pacing = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                var watch = pacer.WatchAsync(control, pacing.Token);
                try
                {
                    await pool.RunAsync(jobs, () => new StreamingWorker(tools, request, context.Session, snapshot));
                }
                finally
                {
                    await pacing.CancelAsync();
                    await watch;
                }
            }
            await SourceTables.CopySequencesAsync(exporter, snapshotTransaction, control, ct);
            await run.RemainderAsync(control, ct);
            await MoveLedger.DropAsync(control, ct);
            await snapshotTransaction.CommitAsync(ct);
            schemaBytes += new FileInfo(postFile).Length;
            return new ModeOutcome(schemaBytes, run.Bytes, tables.Count, run.BytesKept, run.PiecesKept);
        }
        catch (Exception)
        {
            // The post-data dump must not outlive the attempt (a retry reuses its scratch folder); its own failure is not the cause.
            await abort.CancelAsync();
            await ((Task)postDump).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
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

            // Pieces of about PieceBytes, at least two and at most eight per worker, in whole rounds of the workers: the
            // table's builds (often the longest chain) wait for its last piece, so a worker whose piece ends first takes
            // the next instead of leaving the last stretch to the slower one, and what the workers' speeds differ by is
            // at most one small piece. Smaller pieces also lose less to a crash.
            var parts = Pieces(table.Bytes, table.Pages, jobs);
            for (var i = 0; i < parts; i++)
            {
                long? to = i == parts - 1 ? null : table.Pages * (i + 1) / parts;
                var from = table.Pages * i / parts;
                pieces.Add(new MoveLedger.Piece(MoveLedger.ItemOf(table.Schema, table.Name, from, to), table.Schema, table.Name, from, to, table.Pages, 0, false));
            }
        }

        return pieces;
    }

    /// <summary>The heap a page range of a split table aims at.</summary>
    public const long PieceBytes = 32L << 20;

    /// <summary>How many page ranges a split table (<paramref name="heapBytes"/> in <paramref name="pages"/>) is copied in by <paramref name="jobs"/> workers.</summary>
    public static int Pieces(long heapBytes, long pages, int jobs)
    {
        var wanted = (heapBytes + PieceBytes - 1) / PieceBytes;
        var rounds = Math.Clamp((wanted + jobs - 1) / jobs, 2, 8);
        return (int)Math.Min(rounds * jobs, Math.Max(1, pages));
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


    /// <summary>
    /// Ends the other sessions of this move's role on the target database before a resumed move reads its ledger. The
    /// database is this move's own until cutover, so such a session is an earlier attempt's: one whose host vanished
    /// without closing its sockets (a frozen VM, a network partition) keeps its transaction and locks until the server's
    /// keepalives notice, and the resumed move would wait on them; one still running would race this attempt for the same
    /// pieces. Sessions of other roles (an operator looking in) are left alone: they are not the move's, and ending them
    /// could need rights the move's role does not have.
    /// </summary>
    private static async Task EndEarlierSessionsAsync(NpgsqlConnection control, MoveMeter meter, CancellationToken ct)
    {
        await using var end = new NpgsqlCommand(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND usename = current_user AND pid <> pg_backend_pid()",
            control);
        var ended = (long)(await end.ExecuteScalarAsync(ct))!;
        if (ended > 0)
        {
            meter.Note(string.Create(CultureInfo.InvariantCulture, $"resumed: ended {ended} session(s) an earlier attempt left on the target"));
        }
    }

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

}
