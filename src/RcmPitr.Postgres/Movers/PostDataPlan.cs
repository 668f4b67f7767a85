using System.Text.RegularExpressions;
using Npgsql;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// The post-data section of a streaming move (indexes, constraints, triggers, …), split so that each table's own
/// indexes and constraints can be built as soon as that table's rows have landed, while other tables are still
/// copying. A table's non-foreign-key constraints run first (they take an exclusive lock), then each of its indexes
/// as a job of its own, biggest first. Everything else — foreign keys, triggers, comments, objects on partitioned
/// tables or views — stays in <see cref="Remainder"/>, restored at the end in the dump's own dependency order.
/// Items are lines of <c>pg_restore -l</c>, restored with <c>pg_restore -L</c>: pg_dump's DDL, never our own.
/// </summary>
internal sealed partial class PostDataPlan
{
    private PostDataPlan(Dictionary<(string Schema, string Table), TableWork> tables, IReadOnlyList<string> remainder)
    {
        Tables = tables;
        Remainder = remainder;
    }

    /// <summary>Per table (schema, name): its constraints and its indexes.</summary>
    public IReadOnlyDictionary<(string Schema, string Table), TableWork> Tables { get; }

    /// <summary>The listing lines restored after every table is done.</summary>
    public IReadOnlyList<string> Remainder { get; }

    /// <summary>Classifies the listing of a post-data dump of the database <paramref name="source"/> is connected to.</summary>
    public static async Task<PostDataPlan> CreateAsync(NpgsqlConnection source, IReadOnlyList<string> listing, CancellationToken cancellationToken)
    {
        var indexes = new Dictionary<long, string>();
        var constraints = new Dictionary<long, string>();
        var remainder = new List<string>();
        foreach (var line in listing)
        {
            if (line.StartsWith(';') || string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var entry = EntryPattern().Match(line);
            if (!entry.Success)
            {
                remainder.Add(line);
                continue;
            }

            var catalog = long.Parse(entry.Groups["catalog"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var oid = long.Parse(entry.Groups["oid"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var description = entry.Groups["rest"].Value;
            if (catalog == PgClassOid && description.StartsWith("INDEX ", StringComparison.Ordinal) && !description.StartsWith("INDEX ATTACH ", StringComparison.Ordinal))
            {
                indexes[oid] = line;
            }
            else if (catalog == PgConstraintOid && description.StartsWith("CONSTRAINT ", StringComparison.Ordinal))
            {
                constraints[oid] = line;
            }
            else
            {
                remainder.Add(line);
            }
        }

        var tables = new Dictionary<(string, string), (List<Item> Constraints, List<Item> Indexes)>();
        List<Item> Bucket((string, string) table, bool constraint)
        {
            if (!tables.TryGetValue(table, out var work))
            {
                tables[table] = work = ([], []);
            }

            return constraint ? work.Constraints : work.Indexes;
        }

        var placed = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(
            """
            SELECT i.indexrelid::bigint, n.nspname, t.relname, am.amname, pg_relation_size(i.indexrelid)
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
                Bucket((reader.GetString(1), reader.GetString(2)), constraint: false).Add(new Item(line, reader.GetInt64(4), reader.GetString(3) == "gin"));
                placed.Add(line);
            }
        }

        await using (var command = new NpgsqlCommand(
            """
            SELECT co.oid::bigint, n.nspname, t.relname, coalesce(pg_relation_size(nullif(co.conindid, 0)), 0)
            FROM pg_constraint co
            JOIN pg_class t ON t.oid = co.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE co.oid::bigint = ANY($1) AND t.relkind = 'r' AND co.contype <> 'f'
            """,
            source))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = constraints.Keys.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var line = constraints[reader.GetInt64(0)];
                Bucket((reader.GetString(1), reader.GetString(2)), constraint: true).Add(new Item(line, reader.GetInt64(3), Gin: false));
                placed.Add(line);
            }
        }

        // Keep the dump's order for whatever was not placed with a table.
        remainder.AddRange(indexes.Values.Concat(constraints.Values).Where(l => !placed.Contains(l)));
        var rest = remainder.ToHashSet(StringComparer.Ordinal);
        var ordered = listing.Where(rest.Contains).ToList();
        return new PostDataPlan(
            tables.ToDictionary(t => t.Key, t => new TableWork(t.Value.Constraints, t.Value.Indexes.OrderByDescending(i => i.Cost).ToList())),
            ordered);
    }

    private const long PgClassOid = 1259;
    private const long PgConstraintOid = 2606;

    // "<dump id>; <catalog oid> <object oid> <description namespace tag owner>"
    [GeneratedRegex(@"^(?<id>\d+); (?<catalog>\d+) (?<oid>\d+) (?<rest>.*)$")]
    private static partial Regex EntryPattern();

    /// <summary>One listing line, with its size on the source (to build the biggest first) and whether it is a GIN index.</summary>
    public sealed record Item(string Line, long Cost, bool Gin);

    /// <summary>What to build once a table's rows are in.</summary>
    public sealed record TableWork(IReadOnlyList<Item> Constraints, IReadOnlyList<Item> Indexes);
}
