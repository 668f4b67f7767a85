using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using NpgsqlTypes;
using RcmPitr.Workflow.Drills;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>A past drill result of one tenant, as the history chart shows it.</summary>
public sealed record DrillHistoryPoint(string Tenant, string DrillId, DateTimeOffset RestoreTime, DateTimeOffset RecordedAt, double? Seconds, bool Passed);

/// <summary>
/// Reads and writes <c>rcm_pitr.drill_results</c> in the master database: one row per drill and tenant (a re-record replaces
/// it). Earlier rows are the known-good reference of later drills and the history of the drill page.
/// </summary>
public sealed class DrillResultStore(ControlPlaneDatabase master)
{
    private const string Script = "V009__drill_results.sql";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Records one tenant's result of a drill.</summary>
    public async Task WriteAsync(string drillId, DateTimeOffset restoreTime, DrillTenantResult result, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(drillId);
        ArgumentNullException.ThrowIfNull(result);
        await master.EnsureOwnTablesAsync(["rcm_pitr.drill_results"], Script, cancellationToken);
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO rcm_pitr.drill_results (drill_id, tenant, run_id, restore_time, passed, seconds, result) VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (drill_id, tenant) DO UPDATE
              SET run_id = excluded.run_id, restore_time = excluded.restore_time, passed = excluded.passed, seconds = excluded.seconds,
                  result = excluded.result, recorded_at = now()
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = drillId });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Tenant });
        command.Parameters.Add(new NpgsqlParameter { Value = result.RunId });
        command.Parameters.Add(new NpgsqlParameter { Value = restoreTime.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Passed });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)result.Seconds ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(result, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Every tenant's result of one drill, by tenant; empty when none is recorded (or the master has no such table).</summary>
    public async Task<IReadOnlyList<DrillTenantResult>> ForDrillAsync(string drillId, CancellationToken cancellationToken)
    {
        var results = new List<DrillTenantResult>();
        await QueryAsync("SELECT result::text FROM rcm_pitr.drill_results WHERE drill_id = $1 ORDER BY tenant", [drillId], reader =>
        {
            results.Add(JsonSerializer.Deserialize<DrillTenantResult>(reader.GetString(0), Json)!);
        }, cancellationToken);
        return results;
    }

    /// <summary>
    /// The known-good references of <paramref name="tenant"/> for a drill: the newest passed result of another drill of the same
    /// restore time, and the newest passed result of another drill recorded before this one (either may be null).
    /// </summary>
    public async Task<(DrillTenantResult? SameTime, string? SameTimeDrill, DrillTenantResult? Previous, string? PreviousDrill)> ReferencesAsync(
        string tenant, string drillId, DateTimeOffset restoreTime, CancellationToken cancellationToken)
    {
        (DrillTenantResult?, string?) sameTime = (null, null);
        (DrillTenantResult?, string?) previous = (null, null);
        await QueryAsync(
            """
            SELECT result::text, drill_id FROM rcm_pitr.drill_results
            WHERE tenant = $1 AND drill_id <> $2 AND passed AND restore_time = $3 AND jsonb_array_length(result->'counts') > 0
            ORDER BY recorded_at DESC LIMIT 1
            """,
            [tenant, drillId, restoreTime.ToUniversalTime()],
            reader => sameTime = (JsonSerializer.Deserialize<DrillTenantResult>(reader.GetString(0), Json), reader.GetString(1)),
            cancellationToken);
        await QueryAsync(
            """
            SELECT result::text, drill_id FROM rcm_pitr.drill_results
            WHERE tenant = $1 AND drill_id <> $2 AND passed AND restore_time < $3 AND jsonb_array_length(result->'counts') > 0
            ORDER BY restore_time DESC, recorded_at DESC LIMIT 1
            """,
            [tenant, drillId, restoreTime.ToUniversalTime()],
            reader => previous = (JsonSerializer.Deserialize<DrillTenantResult>(reader.GetString(0), Json), reader.GetString(1)),
            cancellationToken);
        return (sameTime.Item1, sameTime.Item2, previous.Item1, previous.Item2);
    }

    /// <summary>The last <paramref name="limit"/> drill results of each of <paramref name="tenants"/>, oldest first.</summary>
    public async Task<IReadOnlyList<DrillHistoryPoint>> HistoryAsync(IReadOnlyList<string> tenants, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        var points = new List<DrillHistoryPoint>();
        await QueryAsync(
            """
            SELECT tenant, drill_id, restore_time, recorded_at, seconds, passed FROM (
              SELECT *, row_number() OVER (PARTITION BY tenant ORDER BY recorded_at DESC) AS n
              FROM rcm_pitr.drill_results WHERE tenant = ANY($1)
            ) r WHERE n <= $2 ORDER BY tenant, recorded_at
            """,
            [tenants.ToArray(), limit],
            reader => points.Add(new DrillHistoryPoint(
                reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.GetBoolean(5))),
            cancellationToken);
        return points;
    }

    /// <summary>Passed and failed tenants per drill, for <paramref name="drillIds"/>.</summary>
    public async Task<IReadOnlyDictionary<string, (int Passed, int Failed)>> CountsAsync(IReadOnlyList<string> drillIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(drillIds);
        var counts = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        await QueryAsync(
            "SELECT drill_id, count(*) FILTER (WHERE passed)::int, count(*) FILTER (WHERE NOT passed)::int FROM rcm_pitr.drill_results WHERE drill_id = ANY($1) GROUP BY drill_id",
            [drillIds.ToArray()],
            reader => counts[reader.GetString(0)] = (reader.GetInt32(1), reader.GetInt32(2)),
            cancellationToken);
        return counts;
    }

    // A master without the table (nothing recorded yet, or a login that could not create it) reads as empty.
    private async Task QueryAsync(string sql, object[] values, Action<NpgsqlDataReader> row, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                row(reader);
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
        }
    }
}
