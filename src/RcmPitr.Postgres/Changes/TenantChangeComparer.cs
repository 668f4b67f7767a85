using System.Collections.Concurrent;
using System.Data;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Changes;

/// <summary>
/// The change report: what replacing the live database with the restored copy (both on one server) changes, table by
/// table. Tables are the ordinary and the partitioned tables outside the system schemas, compared at the top: a
/// partitioned table is compared as a whole (its partitions are not listed apart), so a row that moved between
/// partitions counts once, as different. A table whose primary key is the same on both sides is compared by key: both
/// sides are streamed at once in key order with a per-row 64-bit hash computed on the server, and merged in the client with
/// bounded memory (rows only in live, only in the copy, in both but different). Any other table (no key, or keys that
/// differ) is compared by whole-row hash as a multiset. Only key values and hashes leave the databases — never other row
/// data, in samples, messages or logs. Every read runs in one REPEATABLE READ, READ ONLY snapshot per database, shared by
/// the sessions through <c>pg_export_snapshot</c>; nothing is written. Largest tables first, <see
/// cref="ChangeReportOptions.Parallelism"/> at a time, within <see cref="ChangeReportOptions.TimeBudget"/>.
/// </summary>
public sealed class TenantChangeComparer(PgConnector connector, ChangeReportOptions options, TimeProvider? timeProvider = null)
{
    // Row text depends on these settings (a database-level TimeZone or DateStyle would otherwise make every row of live
    // differ from the copy, which pg_dump does not give them); the rest keep a tenant's database-level limits from
    // stopping a long read. row_security off: a table under a row-level security policy the admin does not bypass is an
    // error (as for pg_dump) rather than a filtered read that would report "no differences".
    private const string SessionSettings =
        """
        SET TRANSACTION READ ONLY;
        SET LOCAL search_path = pg_catalog;
        SET LOCAL TimeZone = 'UTC';
        SET LOCAL DateStyle = 'ISO, YMD';
        SET LOCAL IntervalStyle = 'postgres';
        SET LOCAL extra_float_digits = 1;
        SET LOCAL bytea_output = 'hex';
        SET LOCAL lc_monetary = 'C';
        SET LOCAL statement_timeout = 0;
        SET LOCAL idle_in_transaction_session_timeout = 0;
        SET LOCAL work_mem = '64MB';
        SET LOCAL row_security = off;
        """;

    private const string TablesSql =
        """
        SELECT n.nspname::text, c.relname::text,
               CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_table_size(t.relid)), 0)::bigint FROM pg_partition_tree(c.oid) t)
                    ELSE pg_table_size(c.oid) END,
               array(SELECT a.attname::text FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                      WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.ord),
               array(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                      WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.ord),
               array(SELECT a.atttypid::int8 FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                      WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.ord),
               current_setting('server_encoding'), current_setting('server_version_num')::int, c.relkind = 'p'
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't'
           AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
        """;

    private const string ColumnsSql =
        """
        SELECT a.attname::text, a.atttypid::int8, a.atttypmod, coalesce(co.collisdeterministic, true)
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_collation co ON co.oid = a.attcollation
         WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum
        """;

    // Types whose equality (what their hash function follows) holds exactly when their text is the same: hashed natively.
    // Everything else — floats (-0 = 0), unconstrained numeric (1.0 = 1.00), jsonb (numbers by value), interval
    // ('1 day' = '24 hours'), arrays, user types, and text under a nondeterministic collation — is hashed by its text.
    private static readonly HashSet<long> NativelyHashed = [16, 17, 18, 19, 20, 21, 23, 25, 26, 1043, 1082, 1083, 1114, 1184, 2950];

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>
    /// Compares <paramref name="liveDatabase"/> with <paramref name="copyDatabase"/> on <paramref name="server"/>. Returns a
    /// partial report when the time budget runs out; throws when a database is missing or a query fails (with the
    /// server's text redacted). Cancelling <paramref name="cancellationToken"/> stops it with <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<ChangeReport> CompareAsync(string runId, DbServerInfo server, string liveDatabase, string copyDatabase, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentNullException.ThrowIfNull(server);
        var live = PgIdentifierRules.RequireDatabaseName(liveDatabase, "liveDatabase");
        var copy = PgIdentifierRules.RequireDatabaseName(copyDatabase, "copyDatabase");
        ArgumentOutOfRangeException.ThrowIfNegative(options.SampleKeys);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Parallelism, 1);
        var started = _time.GetTimestamp();
        var computedAt = _time.GetUtcNow().UtcDateTime;
        using var budget = new CancellationTokenSource(options.TimeBudget <= TimeSpan.Zero ? TimeSpan.FromTicks(1) : options.TimeBudget, _time);
        await RequireDatabasesAsync(server, [live, copy], cancellationToken);

        await using var liveSnapshot = await connector.OpenAsync(server, live, cancellationToken);
        await using var copySnapshot = await connector.OpenAsync(server, copy, cancellationToken);
        var (liveId, liveTables, liveUtf8, recordHash) = await BeginSnapshotAsync(liveSnapshot, cancellationToken);
        var (copyId, copyTables, copyUtf8, _) = await BeginSnapshotAsync(copySnapshot, cancellationToken);
        var plans = Plan(liveTables, copyTables, liveUtf8 && copyUtf8, recordHash);

        var results = new TableChanges?[plans.Count];
        var tallies = plans.Select(p => new Tally(p, options.SampleKeys)).ToArray();
        var queue = new ConcurrentQueue<TablePlan>(plans.OrderByDescending(p => p.Size).ThenBy(p => p.Name, StringComparer.Ordinal));
        using var failed = new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token, failed.Token);
        var workers = Enumerable.Range(0, Math.Min(options.Parallelism, Math.Max(1, plans.Count)))
            .Select(_ => Task.Run(() => WorkAsync(server, (live, liveId), (copy, copyId), queue, tallies, results, stop.Token, failed, cancellationToken), CancellationToken.None))
            .ToList();
        await Task.WhenAll(workers);

        var tables = plans.Select((p, i) => results[i] ?? tallies[i].ToChanges(partial: true)).ToList();
        return new ChangeReport(runId, live, copy, computedAt, Math.Round(_time.GetElapsedTime(started).TotalSeconds, 3), tables.Any(t => t.Partial), tables);
    }

    private async Task WorkAsync(
        DbServerInfo server,
        (string Database, string Snapshot) live,
        (string Database, string Snapshot) copy,
        ConcurrentQueue<TablePlan> queue,
        Tally[] tallies,
        TableChanges?[] results,
        CancellationToken stop,
        CancellationTokenSource failed,
        CancellationToken cancellationToken)
    {
        NpgsqlConnection? liveConnection = null;
        NpgsqlConnection? copyConnection = null;
        try
        {
            while (!stop.IsCancellationRequested && queue.TryDequeue(out var plan))
            {
                liveConnection ??= await OpenInSnapshotAsync(server, live.Database, live.Snapshot, cancellationToken);
                copyConnection ??= await OpenInSnapshotAsync(server, copy.Database, copy.Snapshot, cancellationToken);
                var tally = tallies[plan.Index];
                try
                {
                    await CompareTableAsync(plan, liveConnection, copyConnection, tally, stop);
                    results[plan.Index] = tally.ToChanges(partial: false);
                }
                catch (Exception e) when (stop.IsCancellationRequested && e is OperationCanceledException or NpgsqlException)
                {
                    // The budget ran out (or another table failed) while this table was read: its counts so far stand.
                    cancellationToken.ThrowIfCancellationRequested();
                    results[plan.Index] = tally.ToChanges(partial: true);
                    return;
                }
                catch (PostgresException e)
                {
                    throw RedactedPostgresException.From(e, $"comparing {plan.Name} of {live.Database} and {copy.Database}");
                }
            }
        }
        catch when (!stop.IsCancellationRequested)
        {
            await failed.CancelAsync();
            throw;
        }
        finally
        {
            if (liveConnection is not null)
            {
                await liveConnection.DisposeAsync();
            }

            if (copyConnection is not null)
            {
                await copyConnection.DisposeAsync();
            }
        }
    }

    private async Task CompareTableAsync(TablePlan plan, NpgsqlConnection live, NpgsqlConnection copy, Tally tally, CancellationToken stop)
    {
        switch (plan.MatchedBy)
        {
            case TableMatch.OnlyInLive:
                await CountOneSideAsync(plan, live, tally, tally.OnlyInLiveSamples, inLive: true, stop);
                break;
            case TableMatch.OnlyInCopy:
                await CountOneSideAsync(plan, copy, tally, tally.OnlyInCopySamples, inLive: false, stop);
                break;
            case TableMatch.PrimaryKey:
                await MergeByKeyAsync(plan, live, copy, tally, stop);
                break;
            default:
                await MergeByHashAsync(plan, live, copy, tally, stop);
                break;
        }
    }

    /// <summary>Both sides in key order, each row's key and hash, merged: the core of the report.</summary>
    private async Task MergeByKeyAsync(TablePlan plan, NpgsqlConnection live, NpgsqlConnection copy, Tally tally, CancellationToken stop)
    {
        var liveHash = await RowHashAsync(plan, live, stop);
        var copyHash = await RowHashAsync(plan, copy, stop);
        await using var liveCommand = new NpgsqlCommand($"SELECT {plan.KeySelect}, {liveHash} FROM {plan.Qualified} r ORDER BY {plan.KeyOrder}", live);
        await using var copyCommand = new NpgsqlCommand($"SELECT {plan.KeySelect}, {copyHash} FROM {plan.Qualified} r ORDER BY {plan.KeyOrder}", copy);
        // Cancel both server-side queries together: an abandoned reader would otherwise be drained to its end on dispose.
        await using var cancel = stop.Register(() => CancelQuietly(liveCommand, copyCommand));
        stop.ThrowIfCancellationRequested();
        await using var liveRows = await liveCommand.ExecuteReaderAsync(CancellationToken.None);
        await using var copyRows = await copyCommand.ExecuteReaderAsync(CancellationToken.None);
        try
        {
            await MergeKeysAsync(plan, liveRows, copyRows, liveCommand, copyCommand, tally, stop);
        }
        catch
        {
            // A stop that came while a query was starting, or a failure of one side: cancel both on the server, so that
            // disposing the readers does not drain the other side's sorted rows to their end.
            CancelQuietly(liveCommand, copyCommand);
            throw;
        }
    }

    private static async Task MergeKeysAsync(
        TablePlan plan, NpgsqlDataReader liveRows, NpgsqlDataReader copyRows, NpgsqlCommand liveCommand, NpgsqlCommand copyCommand, Tally tally, CancellationToken stop)
    {
        stop.ThrowIfCancellationRequested();
        var kinds = plan.KeyKinds;
        var hashColumn = kinds.Length;
        var liveKey = new KeyValue[kinds.Length];
        var copyKey = new KeyValue[kinds.Length];
        var hasLive = await ReadKeyAsync(liveRows, kinds, liveKey);
        var hasCopy = await ReadKeyAsync(copyRows, kinds, copyKey);
        var steps = 0;
        while (hasLive || hasCopy)
        {
            StopWhenAsked(ref steps, stop, liveCommand, copyCommand);
            var order = !hasLive ? 1 : !hasCopy ? -1 : KeyOrder.Compare(kinds, liveKey, copyKey);
            if (order < 0)
            {
                tally.LiveRows++;
                tally.OnlyInLive++;
                tally.Sample(tally.OnlyInLiveSamples, kinds, liveKey);
                hasLive = await ReadKeyAsync(liveRows, kinds, liveKey);
            }
            else if (order > 0)
            {
                tally.CopyRows++;
                tally.OnlyInCopy++;
                tally.Sample(tally.OnlyInCopySamples, kinds, copyKey);
                hasCopy = await ReadKeyAsync(copyRows, kinds, copyKey);
            }
            else
            {
                tally.LiveRows++;
                tally.CopyRows++;
                if (liveRows.GetInt64(hashColumn) != copyRows.GetInt64(hashColumn))
                {
                    tally.Different++;
                    tally.Sample(tally.DifferentSamples, kinds, liveKey);
                }

                hasLive = await ReadKeyAsync(liveRows, kinds, liveKey);
                hasCopy = await ReadKeyAsync(copyRows, kinds, copyKey);
            }
        }
    }

    /// <summary>A table without a common primary key: the multiset of whole-row hashes on each side, merged.</summary>
    private async Task MergeByHashAsync(TablePlan plan, NpgsqlConnection live, NpgsqlConnection copy, Tally tally, CancellationToken stop)
    {
        var liveHash = await RowHashAsync(plan, live, stop);
        var copyHash = await RowHashAsync(plan, copy, stop);
        await using var liveCommand = new NpgsqlCommand($"SELECT {liveHash}, count(*) FROM {plan.Qualified} r GROUP BY 1 ORDER BY 1", live);
        await using var copyCommand = new NpgsqlCommand($"SELECT {copyHash}, count(*) FROM {plan.Qualified} r GROUP BY 1 ORDER BY 1", copy);
        await using var cancel = stop.Register(() => CancelQuietly(liveCommand, copyCommand));
        stop.ThrowIfCancellationRequested();
        await using var liveRows = await liveCommand.ExecuteReaderAsync(CancellationToken.None);
        await using var copyRows = await copyCommand.ExecuteReaderAsync(CancellationToken.None);
        try
        {
            await MergeHashesAsync(liveRows, copyRows, liveCommand, copyCommand, tally, stop);
        }
        catch
        {
            CancelQuietly(liveCommand, copyCommand);
            throw;
        }
    }

    private static async Task MergeHashesAsync(
        NpgsqlDataReader liveRows, NpgsqlDataReader copyRows, NpgsqlCommand liveCommand, NpgsqlCommand copyCommand, Tally tally, CancellationToken stop)
    {
        stop.ThrowIfCancellationRequested();
        var hasLive = await liveRows.ReadAsync(CancellationToken.None);
        var hasCopy = await copyRows.ReadAsync(CancellationToken.None);
        var steps = 0;
        while (hasLive || hasCopy)
        {
            StopWhenAsked(ref steps, stop, liveCommand, copyCommand);
            var order = !hasLive ? 1 : !hasCopy ? -1 : liveRows.GetInt64(0).CompareTo(copyRows.GetInt64(0));
            var liveCount = order <= 0 ? liveRows.GetInt64(1) : 0;
            var copyCount = order >= 0 ? copyRows.GetInt64(1) : 0;
            tally.LiveRows += liveCount;
            tally.CopyRows += copyCount;
            tally.OnlyInLive += Math.Max(0, liveCount - copyCount);
            tally.OnlyInCopy += Math.Max(0, copyCount - liveCount);
            if (order <= 0)
            {
                hasLive = await liveRows.ReadAsync(CancellationToken.None);
            }

            if (order >= 0)
            {
                hasCopy = await copyRows.ReadAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>A table on one side only: every row counts there; its first keys are the samples.</summary>
    private async Task CountOneSideAsync(TablePlan plan, NpgsqlConnection connection, Tally tally, List<IReadOnlyList<string?>> samples, bool inLive, CancellationToken stop)
    {
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM {plan.Qualified}", connection);
        await using var cancel = stop.Register(() => CancelQuietly(count));
        stop.ThrowIfCancellationRequested();
        var rows = (long)(await count.ExecuteScalarAsync(CancellationToken.None))!;
        // The count is known: a stop while sampling keeps it.
        if (inLive)
        {
            tally.LiveRows = tally.OnlyInLive = rows;
        }
        else
        {
            tally.CopyRows = tally.OnlyInCopy = rows;
        }

        if (plan.KeyKinds.Length > 0 && options.SampleKeys > 0)
        {
            await using var keys = new NpgsqlCommand($"SELECT {plan.KeySelect} FROM {plan.Qualified} r ORDER BY {plan.KeyOrder} LIMIT {options.SampleKeys}", connection);
            await using var cancelKeys = stop.Register(() => CancelQuietly(keys));
            stop.ThrowIfCancellationRequested();
            await using var reader = await keys.ExecuteReaderAsync(CancellationToken.None);
            var key = new KeyValue[plan.KeyKinds.Length];
            while (await ReadKeyAsync(reader, plan.KeyKinds, key))
            {
                tally.Sample(samples, plan.KeyKinds, key);
            }
        }

        tally.SamplesTruncated |= plan.KeyKinds.Length > 0 && rows > samples.Count;
    }

    /// <summary>
    /// The SQL of a row's 64-bit hash on this side, over its columns as this side's catalog lists them (so a table whose
    /// columns changed differs in every row). Columns of <see cref="NativelyHashed"/> types go to the type's own hash,
    /// the rest as their text (under <c>"C"</c>, so a nondeterministic collation cannot equate two texts); the row's hash
    /// combines them with <c>hash_record_extended</c>, several times cheaper than hashing the row's whole text. Before
    /// PostgreSQL 14, which lacks it: the first 64 bits of the md5 of the row's text.
    /// </summary>
    private async Task<string> RowHashAsync(TablePlan plan, NpgsqlConnection connection, CancellationToken stop)
    {
        if (!plan.RecordHash)
        {
            return "('x' || left(md5(ROW(r.*)::text), 16))::bit(64)::int8";
        }

        await using var command = new NpgsqlCommand(ColumnsSql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = plan.Schema });
        command.Parameters.Add(new NpgsqlParameter { Value = plan.Table });
        var columns = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(stop))
        {
            while (await reader.ReadAsync(stop))
            {
                var column = "r." + PgQuote.Identifier(reader.GetString(0));
                var native = NativelyHashed.Contains(reader.GetInt64(1)) && reader.GetBoolean(3);
                var fixedScale = reader.GetInt64(1) == 1700 && reader.GetInt32(2) >= 0;
                columns.Add(native || fixedScale ? column : $"({column}::text COLLATE \"C\")");
            }
        }

        return $"hash_record_extended(ROW({string.Join(", ", columns)}), 0)";
    }

    private static async Task<bool> ReadKeyAsync(NpgsqlDataReader reader, KeyKind[] kinds, KeyValue[] key) =>
        await reader.ReadAsync(CancellationToken.None) && Fill(reader, kinds, key);

    private static bool Fill(NpgsqlDataReader reader, KeyKind[] kinds, KeyValue[] key)
    {
        for (var i = 0; i < kinds.Length; i++)
        {
            switch (kinds[i])
            {
                case KeyKind.Integer:
                    key[i].Integer = reader.GetInt64(i);
                    break;
                case KeyKind.Uuid:
                    key[i].Uuid = reader.GetGuid(i);
                    break;
                default:
                    key[i].Text = reader.GetString(i);
                    break;
            }
        }

        return true;
    }

    /// <summary>
    /// Every few thousand rows, stops a merge whose budget ran out even if the cancel request missed its queries (sent
    /// before they ran): cancels them now, so disposing the readers does not read them to the end.
    /// </summary>
    private static void StopWhenAsked(ref int steps, CancellationToken stop, NpgsqlCommand live, NpgsqlCommand copy)
    {
        if ((++steps & 0xFFF) == 0 && stop.IsCancellationRequested)
        {
            CancelQuietly(live, copy);
            throw new OperationCanceledException(stop);
        }
    }

    private static void CancelQuietly(params NpgsqlCommand[] commands)
    {
        foreach (var command in commands)
        {
            try
            {
                command.Cancel();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ObjectDisposedException)
            {
                // Nothing running on that session any more: nothing to cancel.
            }
        }
    }

    private async Task RequireDatabasesAsync(DbServerInfo server, IEnumerable<string> databases, CancellationToken cancellationToken)
    {
        await using var maintenance = await connector.OpenMaintenanceAsync(server, cancellationToken);
        var catalog = new ServerCatalog(maintenance);
        foreach (var database in databases)
        {
            if (await catalog.FindAsync(database, cancellationToken) is null)
            {
                throw new DatabaseStateConflictException($"{database} does not exist on {server.Name}; nothing to compare.");
            }
        }
    }

    /// <summary>Opens the database's snapshot (kept open while the workers import it) and reads its tables.</summary>
    private static async Task<(string Snapshot, List<CatalogTable> Tables, bool Utf8, bool RecordHash)> BeginSnapshotAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using (var settings = new NpgsqlCommand(SessionSettings, connection))
        {
            await settings.ExecuteNonQueryAsync(cancellationToken);
        }

        string snapshot;
        await using (var export = new NpgsqlCommand("SELECT pg_export_snapshot()", connection))
        {
            snapshot = (string)(await export.ExecuteScalarAsync(cancellationToken))!;
        }

        var tables = new List<CatalogTable>();
        var utf8 = true;
        var recordHash = true;
        await using var command = new NpgsqlCommand(TablesSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            tables.Add(new CatalogTable(
                reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<string[]>(3), reader.GetFieldValue<string[]>(4), reader.GetFieldValue<long[]>(5))
            {
                Partitioned = reader.GetBoolean(8),
            });
            utf8 = reader.GetString(6) == "UTF8";
            recordHash = reader.GetInt32(7) >= 140000;
        }

        return (snapshot, tables, utf8, recordHash);
    }

    private async Task<NpgsqlConnection> OpenInSnapshotAsync(DbServerInfo server, string database, string snapshot, CancellationToken cancellationToken)
    {
        var connection = await connector.OpenAsync(server, database, cancellationToken);
        try
        {
            await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
            await using var command = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT {PgQuote.Literal(snapshot)};\n{SessionSettings}", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Pairs the two sides' tables by name and decides how each is compared.</summary>
    internal static List<TablePlan> Plan(IReadOnlyList<CatalogTable> live, IReadOnlyList<CatalogTable> copy, bool utf8, bool recordHash)
    {
        var liveByName = live.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var copyByName = copy.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var names = liveByName.Keys.Union(copyByName.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var plans = new List<TablePlan>(names.Count);
        foreach (var name in names)
        {
            liveByName.TryGetValue(name, out var l);
            copyByName.TryGetValue(name, out var c);
            var table = (l ?? c)!;
            var sameKey = l is not null && c is not null && l.KeyColumns.Length > 0
                          && l.KeyColumns.SequenceEqual(c.KeyColumns, StringComparer.Ordinal) && l.KeyTypes.SequenceEqual(c.KeyTypes, StringComparer.Ordinal);
            var matchedBy = l is null ? TableMatch.OnlyInCopy : c is null ? TableMatch.OnlyInLive : sameKey ? TableMatch.PrimaryKey : TableMatch.RowHash;
            var keyed = matchedBy == TableMatch.PrimaryKey || (matchedBy != TableMatch.RowHash && table.KeyColumns.Length > 0);
            var columns = keyed ? table.KeyColumns : [];
            var kinds = keyed ? table.KeyTypeOids.Select(KindOf).ToArray() : [];
            plans.Add(new TablePlan(
                // A partitioned table is read whole (its partitions are not listed on their own); any other table ONLY itself,
                // as the movers copy it: a legacy inheritance child is its own entry and must not be counted under its parent too.
                plans.Count, name, table.Schema, table.Table, ((l?.Partitioned ?? false) || (c?.Partitioned ?? false) ? string.Empty : "ONLY ") + PgQuote.Qualified(table.Schema, table.Table), matchedBy, Math.Max(l?.Size ?? 0, c?.Size ?? 0), columns, kinds,
                string.Join(", ", columns.Select((k, i) => Select(PgQuote.Identifier(k), kinds[i]))),
                string.Join(", ", columns.Select((k, i) => Order(PgQuote.Identifier(k), kinds[i], utf8))),
                recordHash));
        }

        return plans;

        static string Select(string column, KeyKind kind) => kind switch
        {
            KeyKind.Integer => $"r.{column}::int8",
            KeyKind.Uuid => $"r.{column}",
            _ => $"r.{column}::text",
        };

        // In a UTF-8 database "C" orders by the UTF-8 bytes; elsewhere the text is converted to UTF-8 bytes to sort by.
        static string Order(string column, KeyKind kind, bool utf8) => kind switch
        {
            KeyKind.Integer or KeyKind.Uuid => $"r.{column}",
            _ when utf8 => $"r.{column}::text COLLATE \"C\"",
            _ => $"convert_to(r.{column}::text, 'UTF8')",
        };
    }

    internal static KeyKind KindOf(long typeOid) => typeOid switch
    {
        20 or 21 or 23 => KeyKind.Integer,
        2950 => KeyKind.Uuid,
        _ => KeyKind.Text,
    };

    /// <summary>A table as one database's catalog describes it.</summary>
    internal sealed record CatalogTable(string Schema, string Table, long Size, string[] KeyColumns, string[] KeyTypes, long[] KeyTypeOids)
    {
        public string Name => $"{Schema}.{Table}";

        /// <summary>A partitioned table (read whole, through its partitions).</summary>
        public bool Partitioned { get; init; }
    }

    /// <summary>How one table is compared.</summary>
    internal sealed record TablePlan(int Index, string Name, string Schema, string Table, string Qualified, string MatchedBy, long Size, string[] KeyColumns, KeyKind[] KeyKinds, string KeySelect, string KeyOrder, bool RecordHash);

    /// <summary>One table's counts and samples as the comparison goes (what a partial result reports).</summary>
    private sealed class Tally(TablePlan plan, int sampleKeys)
    {
        public long LiveRows;
        public long CopyRows;
        public long OnlyInLive;
        public long OnlyInCopy;
        public long Different;
        public bool SamplesTruncated;

        public List<IReadOnlyList<string?>> OnlyInLiveSamples { get; } = [];

        public List<IReadOnlyList<string?>> OnlyInCopySamples { get; } = [];

        public List<IReadOnlyList<string?>> DifferentSamples { get; } = [];

        public void Sample(List<IReadOnlyList<string?>> samples, KeyKind[] kinds, KeyValue[] key)
        {
            if (samples.Count < sampleKeys)
            {
                samples.Add(KeyOrder.ToText(kinds, key));
            }
            else
            {
                SamplesTruncated = true;
            }
        }

        public TableChanges ToChanges(bool partial) => new(
            plan.Name, plan.MatchedBy, plan.KeyColumns, LiveRows, CopyRows, OnlyInLive, OnlyInCopy, Different, partial,
            new ChangeSamples([.. OnlyInLiveSamples], [.. OnlyInCopySamples], [.. DifferentSamples]), SamplesTruncated);
    }
}
