using Npgsql;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>The live progress of one run's database transfer, as the status API shows it.</summary>
/// <param name="Phase">schema, data, indexes (streaming); dump, restore (dump modes); done; failed.</param>
/// <param name="ProgressedAt">When the counters last changed.</param>
/// <param name="Error">Why the transfer failed (a stall, a tool error); null while it runs or after it finished.</param>
public sealed record TransferProgress(
    string RunId,
    string Mode,
    string Phase,
    int TablesDone,
    int TablesTotal,
    long BytesMoved,
    DateTimeOffset StartedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset ProgressedAt,
    string? Error);

/// <summary>Reads and writes <c>rcm_pitr.transfer_progress</c> in the master database (one row per run, upserted).</summary>
public sealed class TransferProgressStore(ControlPlaneDatabase master)
{
    /// <summary>Writes the run's row.</summary>
    public async Task WriteAsync(TransferProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO rcm_pitr.transfer_progress
              (run_id, mode, phase, tables_done, tables_total, bytes_moved, started_at, updated_at, progressed_at, error)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (run_id) DO UPDATE SET
              mode = excluded.mode, phase = excluded.phase, tables_done = excluded.tables_done, tables_total = excluded.tables_total,
              bytes_moved = excluded.bytes_moved, started_at = excluded.started_at, updated_at = excluded.updated_at,
              progressed_at = excluded.progressed_at, error = excluded.error
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = progress.RunId });
        command.Parameters.Add(new NpgsqlParameter { Value = progress.Mode });
        command.Parameters.Add(new NpgsqlParameter { Value = progress.Phase });
        command.Parameters.Add(new NpgsqlParameter { Value = progress.TablesDone });
        command.Parameters.Add(new NpgsqlParameter { Value = progress.TablesTotal });
        command.Parameters.Add(new NpgsqlParameter { Value = progress.BytesMoved });
        command.Parameters.Add(new NpgsqlParameter { Value = progress.StartedAt });
        command.Parameters.Add(new NpgsqlParameter { Value = progress.UpdatedAt });
        command.Parameters.Add(new NpgsqlParameter { Value = progress.ProgressedAt });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)progress.Error ?? DBNull.Value });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The run's row, or null.</summary>
    public async Task<TransferProgress?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT run_id, mode, phase, tables_done, tables_total, bytes_moved, started_at, updated_at, progressed_at, error
            FROM rcm_pitr.transfer_progress WHERE run_id = $1
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new TransferProgress(
            reader.GetString(0),
            reader.GetString(1),
            reader.GetString(2),
            reader.GetInt32(3),
            reader.GetInt32(4),
            reader.GetInt64(5),
            reader.GetFieldValue<DateTimeOffset>(6),
            reader.GetFieldValue<DateTimeOffset>(7),
            reader.GetFieldValue<DateTimeOffset>(8),
            reader.IsDBNull(9) ? null : reader.GetString(9));
    }
}
