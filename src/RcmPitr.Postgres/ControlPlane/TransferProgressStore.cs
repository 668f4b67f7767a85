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
    string? Error)
{
    /// <summary>The bytes the copy (data phase, or a dump mode's dump) is expected to move; 0 when unknown.</summary>
    public long BytesTotal { get; init; }

    /// <summary>The throughput the copy achieved (bytes per second, averaged from its first byte); null before it is known.</summary>
    public double? BytesPerSecond { get; init; }

    /// <summary>When the copy should end at that throughput; null when unknown or when no copy is running.</summary>
    public DateTimeOffset? EstimatedFinishAt { get; init; }
}

/// <summary>
/// Reads and writes <c>rcm_pitr.transfer_progress</c> in the master database (one row per run, upserted). On a master
/// still without the columns of <c>V010__transfer_eta.sql</c> it reads and writes the others (until the host starts
/// again): the status then lacks the estimate, not the progress.
/// </summary>
public sealed class TransferProgressStore(ControlPlaneDatabase master)
{
    private const string Columns = "run_id, mode, phase, tables_done, tables_total, bytes_moved, started_at, updated_at, progressed_at, error";
    private const string EtaColumns = "bytes_total, bytes_per_second, estimated_finish_at";

    private volatile bool _withoutEta;

    /// <summary>Writes the run's row.</summary>
    public async Task WriteAsync(TransferProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (!_withoutEta)
        {
            try
            {
                await WriteAsync(progress, withEta: true, cancellationToken);
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedColumn)
            {
                _withoutEta = true;
            }
        }

        await WriteAsync(progress, withEta: false, cancellationToken);
    }

    /// <summary>The run's row, or null.</summary>
    public async Task<TransferProgress?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        if (!_withoutEta)
        {
            try
            {
                return await GetAsync(runId, withEta: true, cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedColumn)
            {
                _withoutEta = true;
            }
        }

        return await GetAsync(runId, withEta: false, cancellationToken);
    }

    private async Task WriteAsync(TransferProgress progress, bool withEta, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            withEta
                ? $"""
                  INSERT INTO rcm_pitr.transfer_progress ({Columns}, {EtaColumns})
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                  ON CONFLICT (run_id) DO UPDATE SET
                    mode = excluded.mode, phase = excluded.phase, tables_done = excluded.tables_done, tables_total = excluded.tables_total,
                    bytes_moved = excluded.bytes_moved, started_at = excluded.started_at, updated_at = excluded.updated_at,
                    progressed_at = excluded.progressed_at, error = excluded.error,
                    bytes_total = excluded.bytes_total, bytes_per_second = excluded.bytes_per_second, estimated_finish_at = excluded.estimated_finish_at
                  """
                : $"""
                  INSERT INTO rcm_pitr.transfer_progress ({Columns})
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
        if (withEta)
        {
            // Unknown is null in the table, 0 in the record (as tables_total).
            command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = progress.BytesTotal > 0 ? progress.BytesTotal : null });
            command.Parameters.Add(new NpgsqlParameter<double?> { TypedValue = progress.BytesPerSecond });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = progress.EstimatedFinishAt });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<TransferProgress?> GetAsync(string runId, bool withEta, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"SELECT {Columns}{(withEta ? ", " + EtaColumns : string.Empty)} FROM rcm_pitr.transfer_progress WHERE run_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var row = new TransferProgress(
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
        return withEta
            ? row with
            {
                BytesTotal = reader.IsDBNull(10) ? 0 : reader.GetInt64(10),
                BytesPerSecond = reader.IsDBNull(11) ? null : reader.GetDouble(11),
                EstimatedFinishAt = reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12),
            }
            : row;
    }
}
