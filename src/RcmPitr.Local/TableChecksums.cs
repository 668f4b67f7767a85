using Npgsql;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Local;

/// <summary>Row-level checksums of a tenant database's tables: an md5 over every row in primary-key order, per table.</summary>
public static class TableChecksums
{
    /// <summary>The tables the sample tenants have.</summary>
    public static IReadOnlyList<(string Schema, string Table)> SampleTables { get; } =
        [("identity", "organization"), ("security", "app_user"), ("members", "member"), ("claims", "claim_line")];

    /// <summary>Table → (rows, md5 of all rows).</summary>
    public static async Task<IReadOnlyDictionary<string, (long Rows, string Md5)>> ComputeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var result = new SortedDictionary<string, (long, string)>(StringComparer.Ordinal);
        foreach (var (schema, table) in SampleTables)
        {
            await using var command = new NpgsqlCommand(
                $"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM {PgQuote.Qualified(schema, table)} t", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            result[$"{schema}.{table}"] = (reader.GetInt64(0), reader.GetString(1));
        }

        return result;
    }
}
