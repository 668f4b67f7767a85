using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using NpgsqlTypes;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// One of RcmPitr's own master tables holding one JSON report per run (<c>run_id</c>, <c>report</c>, <c>recorded_at</c>):
/// a write replaces the run's report, a read of a run without one — or of a master without the table — is null.
/// </summary>
internal sealed class RunReportTable<T>(ControlPlaneDatabase master, string table, string script)
    where T : class
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    // The table and script names are constants of the stores below, never input.
    private readonly string _qualified = "rcm_pitr." + table;

    public async Task WriteAsync(string runId, T report, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentNullException.ThrowIfNull(report);
        // A master that missed the hosts' start-up gets the table here, or a message naming the script to apply.
        await master.EnsureOwnTablesAsync([_qualified], script, cancellationToken);

        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"""
            INSERT INTO {_qualified} (run_id, report) VALUES ($1, $2)
            ON CONFLICT (run_id) DO UPDATE SET report = excluded.report, recorded_at = now()
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(report, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<T?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT report::text FROM {_qualified} WHERE run_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        try
        {
            return await command.ExecuteScalarAsync(cancellationToken) is string json ? JsonSerializer.Deserialize<T>(json, Json) : null;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }
}
