using Npgsql;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Cli.Bench;

/// <summary>
/// What the measuring pass copies and builds, read from the source's catalog: its tables (largest first) and, in the
/// order they are built, every index, the attaches and other constraints, then the foreign keys.
/// </summary>
internal sealed class LimitCatalog
{
    private LimitCatalog(IReadOnlyList<Table> tables, IReadOnlyList<Build> builds)
    {
        Tables = tables;
        Builds = builds;
    }

    /// <summary>The tables to copy.</summary>
    public IReadOnlyList<Table> Tables { get; }

    /// <summary>The builds, indexes first and foreign keys last.</summary>
    public IReadOnlyList<Build> Builds { get; }

    /// <summary>A table: <see cref="Name"/> is <c>schema.table</c> as items show it, <see cref="Quoted"/> as SQL takes it.</summary>
    internal sealed record Table(string Schema, string Relation, string Columns, long Bytes, long Pages)
    {
        public string Name => $"{Schema}.{Relation}";

        public string Quoted => PgQuote.Qualified(Schema, Relation);
    }

    /// <summary>One build: its statement, and for a foreign key the table and unique index it references.</summary>
    internal sealed record Build(string Kind, string Name, string Table, string Sql, bool Gin, string? References = null, string? ReferencedKey = null);

    /// <summary>Reads the source's catalog.</summary>
    public static async Task<LimitCatalog> ReadAsync(NpgsqlConnection source, CancellationToken ct)
    {
        // The tables a streaming move copies, as it lists them.
        var tables = (await SourceTables.ListAsync(source, null, ct)).Select(t => new Table(t.Schema, t.Name, t.Columns, t.Bytes, t.Pages)).ToList();

        var known = tables.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var indexes = new List<Build>();
        var attaches = new List<Build>();
        var constraints = new List<Build>();
        var foreignKeys = new List<Build>();
        // Indexes, with the constraint each one carries (primary key, unique, exclusion). "plain" is what
        // ADD CONSTRAINT … USING INDEX accepts: a b-tree on columns only, not partial, default operator classes and order,
        // no INCLUDE columns, and named as its constraint (PostgreSQL keeps the two names equal).
        await using (var command = new NpgsqlCommand(
            """
            SELECT n.nspname, t.relname, ic.relname, pg_get_indexdef(i.indexrelid), am.amname,
                   k.conname, k.contype::text, k.condeferrable, k.condeferred,
                   am.amname = 'btree' AND i.indexprs IS NULL AND i.indpred IS NULL AND i.indnatts = i.indnkeyatts
                     AND NOT EXISTS (SELECT 1 FROM unnest(i.indoption::int2[]) o WHERE o <> 0)
                     AND NOT EXISTS (SELECT 1 FROM unnest(i.indclass::oid[]) oc JOIN pg_opclass o ON o.oid = oc WHERE NOT o.opcdefault)
                     AND pg_get_indexdef(i.indexrelid) NOT LIKE '%NULLS NOT DISTINCT%'
                     AND ic.relname = k.conname
            FROM pg_index i
            JOIN pg_class ic ON ic.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            JOIN pg_am am ON am.oid = ic.relam
            LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')
            WHERE t.relkind = 'r'
            ORDER BY n.nspname, t.relname, ic.relname
            """,
            source))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var table = new Table(reader.GetString(0), reader.GetString(1), string.Empty, 0, 0);
                if (!known.Contains(table.Name))
                {
                    continue;
                }

                var index = reader.GetString(2);
                var definition = reader.GetString(3);
                var gin = reader.GetString(4) == "gin";
                if (reader.IsDBNull(5))
                {
                    indexes.Add(new Build(LimitItem.Index, index, table.Name, definition, gin));
                    continue;
                }

                var constraint = reader.GetString(5);
                var type = reader.GetString(6);
                var plain = !reader.IsDBNull(9) && reader.GetBoolean(9);
                if (type is "p" or "u" && plain)
                {
                    // The unique index beside the table's other builds, then the constraint on it (catalog only).
                    indexes.Add(new Build(LimitItem.Index, index, table.Name, definition, gin));
                    var deferral = reader.GetBoolean(7) ? (reader.GetBoolean(8) ? " DEFERRABLE INITIALLY DEFERRED" : " DEFERRABLE") : string.Empty;
                    attaches.Add(new Build(
                        LimitItem.Attach, constraint, table.Name,
                        $"ALTER TABLE {table.Quoted} ADD CONSTRAINT {PgQuote.Identifier(constraint)} {(type == "p" ? "PRIMARY KEY" : "UNIQUE")} USING INDEX {PgQuote.Identifier(index)}{deferral}",
                        Gin: false));
                }

                // Otherwise the constraint builds its own index: see below.
            }
        }

        // Constraints pg_dump leaves to post-data: those on an index not built above, NOT VALID checks, foreign keys.
        await using (var command = new NpgsqlCommand(
            """
            SELECT n.nspname, t.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid),
                   rn.nspname, rt.relname, ri.relname
            FROM pg_constraint k
            JOIN pg_class t ON t.oid = k.conrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            LEFT JOIN pg_class rt ON rt.oid = k.confrelid
            LEFT JOIN pg_namespace rn ON rn.oid = rt.relnamespace
            LEFT JOIN pg_class ri ON ri.oid = k.conindid
            WHERE t.relkind = 'r' AND (k.contype IN ('p', 'u', 'x', 'f') OR (k.contype = 'c' AND NOT k.convalidated))
            ORDER BY n.nspname, t.relname, k.conname
            """,
            source))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            var attached = attaches.Select(a => (a.Table, a.Name)).ToHashSet();
            while (await reader.ReadAsync(ct))
            {
                var table = new Table(reader.GetString(0), reader.GetString(1), string.Empty, 0, 0);
                var name = reader.GetString(2);
                if (!known.Contains(table.Name) || attached.Contains((table.Name, name)))
                {
                    continue;
                }

                var sql = $"ALTER TABLE {table.Quoted} ADD CONSTRAINT {PgQuote.Identifier(name)} {reader.GetString(4)}";
                if (reader.GetString(3) == "f")
                {
                    foreignKeys.Add(new Build(LimitItem.ForeignKey, name, table.Name, sql, Gin: false, $"{reader.GetString(5)}.{reader.GetString(6)}", reader.GetString(7)));
                }
                else
                {
                    constraints.Add(new Build(LimitItem.Constraint, name, table.Name, sql, Gin: false));
                }
            }
        }

        return new LimitCatalog(tables, [.. indexes, .. attaches, .. constraints, .. foreignKeys]);
    }
}
