using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using NpgsqlTypes;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// Reads and writes <c>rcm_pitr.change_reports</c> in the master database: every run's full change report (one row per
/// run, the latest comparison wins). The run's own status keeps only its <see cref="ChangeSummary"/>; the status API
/// shows this. The report holds table names, counts and sampled primary-key values — no other row data.
/// </summary>
public sealed class ChangeReportStore(ControlPlaneDatabase master)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Records the run's report (a re-run of the comparison replaces it).</summary>
    public async Task WriteAsync(string runId, ChangeReport report, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentNullException.ThrowIfNull(report);
        // A master that missed the hosts' start-up gets the table here, or a message naming the script to apply.
        await master.EnsureOwnTablesAsync(["rcm_pitr.change_reports"], "V008__change_reports.sql", cancellationToken);

        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO rcm_pitr.change_reports (run_id, report) VALUES ($1, $2)
            ON CONFLICT (run_id) DO UPDATE SET report = excluded.report, recorded_at = now()
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(report, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The run's report, or null when it has none (or the master has no such table yet).</summary>
    public async Task<ChangeReport?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT report::text FROM rcm_pitr.change_reports WHERE run_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        try
        {
            return await command.ExecuteScalarAsync(cancellationToken) is string json ? JsonSerializer.Deserialize<ChangeReport>(json, Json) : null;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }
}
