using Npgsql;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// Proves a move complete: every table's row count and content checksum, every sequence's value, the
/// extensions, the views and the definitions of every index and constraint are equal in source and target. A fast but wrong move is a failed move.
/// </summary>
public static class MoveVerifier
{
    /// <summary>A description of a database's content, comparable between two databases.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> FingerprintAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var tables = new List<(string Schema, string Table, char Kind)>();
        await using (var list = new NpgsqlCommand(
            """
            SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'S', 'v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            ORDER BY 1, 2
            """, connection))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                tables.Add((reader.GetString(0), reader.GetString(1), reader.GetChar(2)));
            }
        }

        foreach (var (schema, table, kind) in tables)
        {
            var name = PgQuote.Qualified(schema, table);
            // Rows as text, sorted by their own text: order-independent, type-aware, and equal only if every value is.
            // A sequence is compared by its position.
            await using var command = new NpgsqlCommand(
                kind == 'S'
                    ? $"SELECT last_value::text || ':' || is_called::text FROM {name}"
                    : $"SELECT count(*)::text || ':' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM {name} r",
                connection);
            result[$"{schema}.{table}"] = (string)(await command.ExecuteScalarAsync(ct))!;
        }

        await using (var extensions = new NpgsqlCommand("SELECT string_agg(extname || ' ' || extversion, ', ' ORDER BY extname) FROM pg_extension", connection))
        {
            result["@extensions"] = (string)(await extensions.ExecuteScalarAsync(ct))!;
        }

        // Definitions, not counts: an index or constraint built another way than pg_dump's must still come out the same.
        await using (var indexes = new NpgsqlCommand(
            """
            SELECT coalesce(string_agg(format('%s.%s %s unique=%s primary=%s exclusion=%s immediate=%s valid=%s clustered=%s replident=%s', n.nspname, ic.relname, pg_get_indexdef(i.indexrelid),
                                              i.indisunique, i.indisprimary, i.indisexclusion, i.indimmediate, i.indisvalid, i.indisclustered, i.indisreplident), E'\n' ORDER BY n.nspname, ic.relname), '')
            FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            """, connection))
        {
            result["@indexes"] = (string)(await indexes.ExecuteScalarAsync(ct))!;
        }

        await using (var constraints = new NpgsqlCommand(
            """
            SELECT coalesce(string_agg(format('%s.%s %s %s %s deferrable=%s deferred=%s validated=%s index=%s', n.nspname, coalesce(t.relname, '-'), k.conname, k.contype, pg_get_constraintdef(k.oid),
                                              k.condeferrable, k.condeferred, k.convalidated, coalesce(ix.relname, '-')), E'\n' ORDER BY n.nspname, t.relname, k.conname), '')
            FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
            LEFT JOIN pg_class t ON t.oid = k.conrelid LEFT JOIN pg_class ix ON ix.oid = k.conindid
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            """, connection))
        {
            result["@constraints"] = (string)(await constraints.ExecuteScalarAsync(ct))!;
        }

        return result;
    }

    /// <summary>The keys whose values differ (empty: the databases match).</summary>
    public static IReadOnlyList<string> Differences(IReadOnlyDictionary<string, string> source, IReadOnlyDictionary<string, string> target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        return source.Keys.Union(target.Keys)
            .Where(k => !source.TryGetValue(k, out var a) || !target.TryGetValue(k, out var b) || a != b)
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
