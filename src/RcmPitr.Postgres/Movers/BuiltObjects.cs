using Npgsql;

namespace RcmPitr.Postgres.Movers;

/// <summary>The indexes and constraints a target already has: what a resumed move does not build again.</summary>
internal sealed record BuiltObjects(HashSet<(string Schema, string Name)> Indexes, HashSet<(string Schema, string Table, string Name)> Constraints)
{
    public bool Contains(PostDataPlan.BuiltObject o) =>
        o.Table is null ? Indexes.Contains((o.Schema, o.Name)) : Constraints.Contains((o.Schema, o.Table, o.Name));

    /// <summary>The indexes and constraints an earlier attempt built (each build is one transaction: it is there or not).</summary>
    public static async Task<BuiltObjects> ReadAsync(NpgsqlConnection target, CancellationToken ct)
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
}
