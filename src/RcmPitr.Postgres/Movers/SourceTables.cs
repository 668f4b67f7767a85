using Npgsql;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Postgres.Movers;

/// <summary>The source's tables and sequences, as a move reads them (the benchmark reads them the same way).</summary>
public static class SourceTables
{
    /// <summary>A plain table of the source: its copied columns (generated ones are computed again), heap bytes and pages.</summary>
    public sealed record Table(string Schema, string Name, string Columns, long Bytes, long Pages)
    {
        /// <summary>Heap and TOAST bytes: about what a COPY of it streams.</summary>
        public long DataBytes { get; init; }

        /// <summary>The table's name as SQL takes it.</summary>
        public string Qualified => PgQuote.Qualified(Schema, Name);
    }

    /// <summary>Tables outside extensions and system schemas, biggest first.</summary>
    public static async Task<List<Table>> ListAsync(NpgsqlConnection source, NpgsqlTransaction? transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT n.nspname, c.relname,
                   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
                   pg_relation_size(c.oid), pg_relation_size(c.oid) / current_setting('block_size')::bigint, pg_table_size(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND c.relpersistence <> 't'
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY pg_total_relation_size(c.oid) DESC, n.nspname, c.relname
            """,
            source,
            transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var tables = new List<Table>();
        while (await reader.ReadAsync(ct))
        {
            if (!reader.IsDBNull(2))
            {
                tables.Add(new Table(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4)) { DataBytes = reader.GetInt64(5) });
            }
        }

        return tables;
    }

    /// <summary>The number of tables a move of the source covers.</summary>
    internal static async Task<int> CountAsync(MoveTools tools, MoveRequest request, CancellationToken ct)
    {
        await using var source = await tools.OpenSourceAsync(request, ct);
        return (await ListAsync(source, null, ct)).Count;
    }

    /// <summary>Sets every sequence of the target to its position in the source's snapshot (idempotent).</summary>
    public static async Task CopySequencesAsync(NpgsqlConnection source, NpgsqlTransaction? transaction, NpgsqlConnection target, CancellationToken ct)
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

        foreach (var (name, value, called) in values)
        {
            await using var set = new NpgsqlCommand("SELECT pg_catalog.setval($1::regclass, $2, $3)", target);
            set.Parameters.Add(new NpgsqlParameter { Value = name });
            set.Parameters.Add(new NpgsqlParameter { Value = value });
            set.Parameters.Add(new NpgsqlParameter { Value = called });
            await set.ExecuteNonQueryAsync(ct);
        }
    }
}
