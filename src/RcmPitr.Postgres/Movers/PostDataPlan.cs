using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// The post-data section of a streaming move (indexes, constraints, triggers, …), split so that each table's own
/// indexes and constraints are built as soon as that table's rows have landed, while other tables are still copying:
/// <list type="number">
/// <item>constraints that build their index under an exclusive lock (pg_dump's <c>ADD CONSTRAINT</c>), one after the other;</item>
/// <item>every index side by side, biggest first — including a primary key's or unique constraint's own index, built as
/// <c>CREATE UNIQUE INDEX</c> when it is a plain b-tree (<see cref="Build.AttachSql"/> then attaches it with
/// <c>ADD CONSTRAINT … USING INDEX</c>, a catalog change); so no primary key holds back the table's GIN index;</item>
/// <item>the attachments;</item>
/// <item>foreign keys between plain tables, once both tables are complete.</item>
/// </list>
/// Everything else — triggers, comments, objects on partitioned tables or views — stays in <see cref="Remainder"/>,
/// restored at the end in the dump's own order. Every statement is pg_dump's own text (<see cref="PostDataScript"/>),
/// except the unique index of an attached constraint, which is <c>pg_get_indexdef</c> of the source's index and only used
/// when the constraint's own definition is exactly <c>PRIMARY KEY (…)</c> / <c>UNIQUE (…)</c> over that index.
/// </summary>
internal sealed partial class PostDataPlan
{
    private const long PgClassOid = 1259;
    private const long PgConstraintOid = 2606;

    private PostDataPlan(Dictionary<(string Schema, string Table), TableWork> tables, IReadOnlyList<ForeignKey> foreignKeys, IReadOnlyList<string> remainder)
    {
        Tables = tables;
        ForeignKeys = foreignKeys;
        Remainder = remainder;
    }

    /// <summary>Per table (schema, name): what to build once its rows are in.</summary>
    public IReadOnlyDictionary<(string Schema, string Table), TableWork> Tables { get; }

    /// <summary>Foreign keys between plain tables.</summary>
    public IReadOnlyList<ForeignKey> ForeignKeys { get; }

    /// <summary>The listing lines restored after everything else, in the dump's order.</summary>
    public IReadOnlyList<string> Remainder { get; }

    /// <summary>Classifies the listing of a post-data dump of the database <paramref name="source"/> is connected to.</summary>
    public static async Task<PostDataPlan> CreateAsync(NpgsqlConnection source, IReadOnlyList<string> listing, PostDataScript? script, CancellationToken cancellationToken)
    {
        var indexes = new Dictionary<long, string>();
        var constraints = new Dictionary<long, string>();
        var foreignKeys = new Dictionary<long, string>();
        foreach (var line in listing)
        {
            if (line.StartsWith(';') || string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var entry = EntryPattern().Match(line);
            if (!entry.Success)
            {
                continue;
            }

            var catalog = long.Parse(entry.Groups["catalog"].Value, CultureInfo.InvariantCulture);
            var oid = long.Parse(entry.Groups["oid"].Value, CultureInfo.InvariantCulture);
            var description = entry.Groups["rest"].Value;
            if (catalog == PgClassOid && description.StartsWith("INDEX ", StringComparison.Ordinal) && !description.StartsWith("INDEX ATTACH ", StringComparison.Ordinal))
            {
                indexes[oid] = line;
            }
            else if (catalog == PgConstraintOid && description.StartsWith("CONSTRAINT ", StringComparison.Ordinal))
            {
                constraints[oid] = line;
            }
            else if (catalog == PgConstraintOid && description.StartsWith("FK CONSTRAINT ", StringComparison.Ordinal))
            {
                foreignKeys[oid] = line;
            }
        }

        string? Sql(string line) => script?.Statements.GetValueOrDefault(line);
        var tables = new Dictionary<(string, string), (List<Build> Constraints, List<Build> Indexes, List<Build> Attaches)>();
        (List<Build> Constraints, List<Build> Indexes, List<Build> Attaches) Work(string schema, string table)
        {
            if (!tables.TryGetValue((schema, table), out var work))
            {
                tables[(schema, table)] = work = ([], [], []);
            }

            return work;
        }

        var placed = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(
            """
            SELECT i.indexrelid::bigint, n.nspname, t.relname, ic.relname, am.amname, pg_relation_size(i.indexrelid)
            FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
            JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
            WHERE i.indexrelid::bigint = ANY($1) AND t.relkind = 'r'
            """,
            source))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = indexes.Keys.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var line = indexes[reader.GetInt64(0)];
                var schema = reader.GetString(1);
                Work(schema, reader.GetString(2)).Indexes.Add(new Build(
                    "index " + PgQuote.Qualified(schema, reader.GetString(3)), line, Sql(line), reader.GetInt64(5), reader.GetString(4) == "gin", new BuiltObject(schema, null, reader.GetString(3))));
                placed.Add(line);
            }
        }

        // A primary key or unique constraint whose index is a plain b-tree over plain columns: its index is built beside
        // the table's other indexes and attached afterwards, when its definition says nothing more than the columns and
        // pg_dump's item carries nothing else (no CLUSTER ON, no REPLICA IDENTITY USING INDEX).
        await using (var command = new NpgsqlCommand(
            """
            SELECT co.oid::bigint, n.nspname, t.relname, co.conname, co.contype::text, coalesce(pg_relation_size(nullif(co.conindid, 0)), 0),
                   co.contype IN ('p', 'u') AND ic.relname = co.conname AND ic.reltablespace = 0 AND NOT co.condeferrable
                   AND NOT coalesce(ix.indisclustered, false) AND NOT coalesce(ix.indisreplident, false)
                   AND pg_get_indexdef(co.conindid) = format('CREATE UNIQUE INDEX %s ON %s.%s USING btree (%s)', quote_ident(ic.relname), quote_ident(n.nspname), quote_ident(t.relname), k.columns)
                   AND pg_get_constraintdef(co.oid) = CASE co.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END || ' (' || k.columns || ')',
                   pg_get_indexdef(co.conindid)
            FROM pg_constraint co
            JOIN pg_class t ON t.oid = co.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
            LEFT JOIN pg_class ic ON ic.oid = co.conindid LEFT JOIN pg_index ix ON ix.indexrelid = co.conindid
            LEFT JOIN LATERAL (
                SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.ord) AS columns
                FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY u(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum
                WHERE i.indexrelid = co.conindid) k ON true
            WHERE co.oid::bigint = ANY($1) AND t.relkind = 'r' AND co.contype <> 'f'
            """,
            source))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = constraints.Keys.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var line = constraints[reader.GetInt64(0)];
                var (schema, table, name) = (reader.GetString(1), reader.GetString(2), reader.GetString(3));
                var size = reader.GetInt64(5);
                var work = Work(schema, table);
                var label = $"constraint {PgQuote.Identifier(name)} of {PgQuote.Qualified(schema, table)}";
                if (reader.GetBoolean(6) && script is not null)
                {
                    var kind = reader.GetString(4) == "p" ? "PRIMARY KEY" : "UNIQUE";
                    work.Indexes.Add(new Build("unique index for " + label, line, reader.GetString(7) + ";", size, Gin: false, new BuiltObject(schema, null, name))
                    {
                        AttachSql = $"ALTER TABLE ONLY {PgQuote.Qualified(schema, table)} ADD CONSTRAINT {PgQuote.Identifier(name)} {kind} USING INDEX {PgQuote.Identifier(name)};",
                    });
                }
                else
                {
                    work.Constraints.Add(new Build(label, line, Sql(line), size, Gin: false, new BuiltObject(schema, table, name)));
                }

                placed.Add(line);
            }
        }

        var keys = new List<ForeignKey>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT co.oid::bigint, n.nspname, t.relname, co.conname, rn.nspname, r.relname, pg_relation_size(t.oid) + pg_relation_size(r.oid)
            FROM pg_constraint co
            JOIN pg_class t ON t.oid = co.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
            JOIN pg_class r ON r.oid = co.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
            WHERE co.oid::bigint = ANY($1) AND co.contype = 'f' AND t.relkind = 'r' AND r.relkind = 'r'
            """,
            source))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = foreignKeys.Keys.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var line = foreignKeys[reader.GetInt64(0)];
                var (schema, table, name) = (reader.GetString(1), reader.GetString(2), reader.GetString(3));
                keys.Add(new ForeignKey(
                    new Build($"foreign key {PgQuote.Identifier(name)} of {PgQuote.Qualified(schema, table)}", line, Sql(line), reader.GetInt64(6), Gin: false, new BuiltObject(schema, table, name)),
                    (schema, table),
                    (reader.GetString(4), reader.GetString(5))));
                placed.Add(line);
            }
        }

        // Keep the dump's order for whatever was not placed with a table.
        var remainder = listing.Where(l => !l.StartsWith(';') && !string.IsNullOrWhiteSpace(l) && !placed.Contains(l)).ToList();
        return new PostDataPlan(
            tables.ToDictionary(
                t => t.Key,
                t => new TableWork(t.Value.Constraints, t.Value.Indexes.OrderByDescending(i => i.Cost).ToList(), t.Value.Indexes.Where(i => i.AttachSql is not null).ToList())),
            keys.OrderByDescending(k => k.Build.Cost).ToList(),
            remainder);
    }

    // "<dump id>; <catalog oid> <object oid> <description namespace tag owner>"
    [GeneratedRegex(@"^(?<id>\d+); (?<catalog>\d+) (?<oid>\d+) (?<rest>.*)$")]
    private static partial Regex EntryPattern();

    /// <summary>What a build leaves in the target, to find it there after a restart: an index (no table) or a constraint of a table.</summary>
    public sealed record BuiltObject(string Schema, string? Table, string Name);

    /// <summary>
    /// One build: its listing line (restored with <c>pg_restore -L</c> when <see cref="Sql"/> is null), pg_dump's
    /// statement for it, its size on the source (biggest first), whether it is a GIN index, and what it creates.
    /// </summary>
    public sealed record Build(string Label, string Line, string? Sql, long Cost, bool Gin, BuiltObject Creates)
    {
        /// <summary>For a constraint's unique index: the statement that attaches it as the constraint.</summary>
        public string? AttachSql { get; init; }
    }

    /// <summary>What to build once a table's rows are in: exclusive constraints first, then indexes side by side, then attachments.</summary>
    public sealed record TableWork(IReadOnlyList<Build> Constraints, IReadOnlyList<Build> Indexes, IReadOnlyList<Build> Attaches);

    /// <summary>A foreign key of <paramref name="Table"/> referencing <paramref name="Referenced"/>.</summary>
    public sealed record ForeignKey(Build Build, (string Schema, string Table) Table, (string Schema, string Table) Referenced);
}
