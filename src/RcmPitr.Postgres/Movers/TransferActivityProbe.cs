using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// What the servers say about one transfer: a counter that grows while any COPY or index build on the database
/// advances (PostgreSQL's progress views), and whether any session on it is doing work right now (on CPU or
/// waiting on I/O, not waiting on a lock or on its client). Foreign-key validation has no progress view, so the
/// second signal is what keeps a long validation from looking stalled.
/// </summary>
internal sealed class TransferActivityProbe(NpgsqlConnection connection, string database, int majorVersion) : IAsyncDisposable
{
    public static async Task<TransferActivityProbe?> TryOpenAsync(PgConnector connector, DbServerInfo server, string database, CancellationToken cancellationToken)
    {
        try
        {
            return new TransferActivityProbe(await connector.OpenMaintenanceAsync(server, cancellationToken), database, server.MajorVersion);
        }
        catch (NpgsqlException)
        {
            // Without a probe only the mover's own counters are watched.
            return null;
        }
    }

    /// <summary>(progress counter, working sessions); null when the server could not be asked.</summary>
    public async Task<(long Counter, int Working)?> SampleAsync(CancellationToken cancellationToken)
    {
        // pg_stat_progress_copy exists from PostgreSQL 14; pg_stat_progress_create_index from 12.
        var copy = majorVersion >= 14
            ? "(SELECT coalesce(sum(bytes_processed + tuples_processed), 0) FROM pg_stat_progress_copy WHERE datname = $1)"
            : "0";
        var sql = $"""
            SELECT {copy}
                 + (SELECT coalesce(sum(blocks_done + tuples_done + partitions_done), 0) FROM pg_stat_progress_create_index WHERE datname = $1),
                   (SELECT count(*) FROM pg_stat_activity
                    WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()
                      AND coalesce(wait_event_type, 'CPU') IN ('CPU', 'IO', 'LWLock', 'BufferPin', 'IPC'))
            """;
        try
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = database });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return (Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), Convert.ToInt32(reader.GetInt64(1)));
        }
        catch (NpgsqlException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}
