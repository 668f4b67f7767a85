using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using NpgsqlTypes;
using RcmPitr.Workflow.Parity;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// Reads and writes <c>rcm_pitr.parity_reports</c> in the master database: every run's full parity table (one row per
/// run, the latest probe wins). The run's own status keeps only what fits its size budget; the status API shows this.
/// </summary>
public sealed class ParityReportStore(ControlPlaneDatabase master)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Records the run's report (a re-run of the probe replaces it).</summary>
    public async Task WriteAsync(string runId, ParityReport report, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentNullException.ThrowIfNull(report);
        // A master that missed the hosts' start-up gets the table here, or a message naming the script to apply.
        await master.EnsureOwnTablesAsync(["rcm_pitr.parity_reports"], "V005__parity_reports.sql", cancellationToken);

        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO rcm_pitr.parity_reports (run_id, report) VALUES ($1, $2)
            ON CONFLICT (run_id) DO UPDATE SET report = excluded.report, recorded_at = now()
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(report, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The run's report, or null when it has none (or the master has no such table yet).</summary>
    public async Task<ParityReport?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT report::text FROM rcm_pitr.parity_reports WHERE run_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        try
        {
            return await command.ExecuteScalarAsync(cancellationToken) is string json ? JsonSerializer.Deserialize<ParityReport>(json, Json) : null;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }
}
