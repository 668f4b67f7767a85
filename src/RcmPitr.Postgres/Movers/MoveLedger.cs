using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// What a streaming move has committed in its target, kept in the target itself (schema <c>_rcm_pitr_move</c>) so a
/// move restarted after a crash or a timeout keeps every finished piece: each piece of data (a table, or a page range of
/// one) is copied in one transaction that also marks it done here, so a piece is either fully in and marked, or absent
/// and redone. The plan (which pieces, and each table's size on the source when it was made) is written once, with the
/// schema, and a restart follows it — or refuses to resume when the source no longer matches it. The schema is dropped
/// when the move ends.
/// </summary>
internal sealed class MoveLedger
{
    /// <summary>The ledger's schema in the target database.</summary>
    public const string Schema = "_rcm_pitr_move";

    private static readonly string Table = PgQuote.Qualified(Schema, "pieces");

    private MoveLedger(string source, IReadOnlyList<Piece> pieces, bool postDataDone, bool postDataStarted = false)
    {
        Source = source;
        Pieces = pieces;
        PostDataDone = postDataDone;
        PostDataStarted = postDataStarted;
    }

    /// <summary>The source the plan was made from (server and database; the tables' page counts are checked apart).</summary>
    public string Source { get; }

    /// <summary>The data pieces, with whether each has committed.</summary>
    public IReadOnlyList<Piece> Pieces { get; }

    /// <summary>Whether the rest of the post-data section (triggers, comments, …) has committed.</summary>
    public bool PostDataDone { get; }

    /// <summary>Whether an attempt started the rest of post-data outside the transaction of its mark (by pg_restore).</summary>
    public bool PostDataStarted { get; }

    /// <summary>The ledger of the target <paramref name="target"/> is connected to; null when it has none.</summary>
    public static async Task<MoveLedger?> ReadAsync(NpgsqlConnection target, CancellationToken ct)
    {
        await using (var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", target))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = Table });
            if (!(bool)(await exists.ExecuteScalarAsync(ct))!)
            {
                return null;
            }
        }

        var pieces = new List<Piece>();
        string? source = null;
        var postDataDone = false;
        var postDataStarted = false;
        await using var read = new NpgsqlCommand($"SELECT item, kind, schema_name, table_name, page_from, page_to, table_pages, bytes, done_at IS NOT NULL FROM {Table} ORDER BY position", target);
        await using var reader = await read.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            switch (reader.GetString(1))
            {
                case "source":
                    source = reader.GetString(0);
                    break;
                case "post-data":
                    postDataDone = reader.GetBoolean(8);
                    break;
                case "post-data-started":
                    postDataStarted = true;
                    break;
                default:
                    pieces.Add(new Piece(
                        reader.GetString(0), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetInt64(5),
                        reader.GetInt64(6), reader.GetInt64(7), reader.GetBoolean(8)));
                    break;
            }
        }

        return source is null ? null : new MoveLedger(source, pieces, postDataDone, postDataStarted);
    }

    /// <summary>Writes the plan, in one transaction: from now on a restart resumes this move.</summary>
    public static async Task<MoveLedger> CreateAsync(NpgsqlConnection target, string source, IReadOnlyList<Piece> pieces, CancellationToken ct)
    {
        await using var transaction = await target.BeginTransactionAsync(ct);
        await using (var create = new NpgsqlCommand(
            $"""
            CREATE SCHEMA {PgQuote.Identifier(Schema)};
            CREATE TABLE {Table} (
                position int PRIMARY KEY, item text NOT NULL UNIQUE, kind text NOT NULL, schema_name text, table_name text,
                page_from bigint, page_to bigint, table_pages bigint, bytes bigint NOT NULL DEFAULT 0, done_at timestamptz)
            """,
            target,
            transaction))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        var position = 0;
        async Task InsertAsync(string item, string kind, Piece? piece)
        {
            await using var insert = new NpgsqlCommand(
                $"INSERT INTO {Table} (position, item, kind, schema_name, table_name, page_from, page_to, table_pages) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", target, transaction);
            insert.Parameters.Add(new NpgsqlParameter { Value = position++ });
            insert.Parameters.Add(new NpgsqlParameter { Value = item });
            insert.Parameters.Add(new NpgsqlParameter { Value = kind });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)piece?.Schema ?? DBNull.Value });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)piece?.Table ?? DBNull.Value });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)piece?.From ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)piece?.To ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)piece?.TablePages ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
            await insert.ExecuteNonQueryAsync(ct);
        }

        await InsertAsync(source, "source", null);
        foreach (var piece in pieces)
        {
            await InsertAsync(piece.Item, "data", piece);
        }

        await InsertAsync("post-data", "post-data", null);
        await transaction.CommitAsync(ct);
        return new MoveLedger(source, pieces, postDataDone: false);
    }

    /// <summary>Marks <paramref name="item"/> done inside the caller's transaction (the one that did its work).</summary>
    public static async Task MarkDoneAsync(NpgsqlConnection target, NpgsqlTransaction transaction, string item, long bytes, CancellationToken ct)
    {
        // Only an entry not yet done: two attempts running at once (one that was thought dead) can never both commit a piece.
        await using var mark = new NpgsqlCommand($"UPDATE {Table} SET done_at = now(), bytes = $2 WHERE item = $1 AND done_at IS NULL", target, transaction);
        mark.Parameters.Add(new NpgsqlParameter { Value = item });
        mark.Parameters.Add(new NpgsqlParameter { Value = bytes });
        if (await mark.ExecuteNonQueryAsync(ct) != 1)
        {
            throw new InvalidOperationException($"The move's ledger has no open entry {item}: another attempt committed it first.");
        }
    }

    /// <summary>Records that the rest of post-data is about to run in a transaction of its own (committed before its mark).</summary>
    public static async Task MarkPostDataStartedAsync(NpgsqlConnection target, CancellationToken ct)
    {
        await using var mark = new NpgsqlCommand(
            $"INSERT INTO {Table} (position, item, kind) SELECT max(position) + 1, 'post-data started', 'post-data-started' FROM {Table} ON CONFLICT (item) DO NOTHING", target);
        await mark.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Removes the ledger: the move is complete.</summary>
    public static async Task DropAsync(NpgsqlConnection target, CancellationToken ct)
    {
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {PgQuote.Identifier(Schema)} CASCADE", target);
        await drop.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The item name of a piece of table data.</summary>
    public static string ItemOf(string schema, string table, long? from, long? to) => string.Create(
        CultureInfo.InvariantCulture,
        $"data {PgQuote.Qualified(schema, table)}{(from is null && to is null ? string.Empty : $" pages {from ?? 0}-{(to is { } end ? end.ToString(CultureInfo.InvariantCulture) : "end")}")}");

    /// <summary>
    /// One piece of table data: the whole table (no page bounds) or the page range [<paramref name="From"/>,
    /// <paramref name="To"/>) (no upper bound: to the end); <paramref name="TablePages"/> is the table's size on the source
    /// when planned, and <paramref name="Bytes"/> what the piece moved once done.
    /// </summary>
    public sealed record Piece(string Item, string Schema, string Table, long? From, long? To, long TablePages, long Bytes, bool Done)
    {
        /// <summary>Whether the piece is the whole table (copied with <c>FREEZE</c> after a <c>TRUNCATE</c> in its own transaction).</summary>
        public bool Whole => From is null && To is null;
    }
}
