using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Writes <c>identity.tenant_audit</c> rows keyed by an idempotency key. The unique key, not a
/// check-then-insert, is what makes a retried write land once even under concurrency.
/// </summary>
internal static class AuditRows
{
    /// <summary>An existing row for the key, or null.</summary>
    public static async Task<(long Id, JsonDocument Details)?> FindAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT id, details FROM identity.tenant_audit WHERE idempotency_key = $1", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetInt64(0), JsonDocument.Parse(reader.GetString(1)))
            : null;
    }

    /// <summary>Inserts the row unless the key exists; returns its id and whether this call inserted it.</summary>
    public static async Task<(long Id, bool Inserted)> InsertAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        string key,
        Guid tenantId,
        string auditEvent,
        string actor,
        string reason,
        IReadOnlyDictionary<string, string> details,
        CancellationToken cancellationToken)
    {
        await using (var insert = new NpgsqlCommand(
            """
            INSERT INTO identity.tenant_audit (tenant_id, event, actor, reason, details, idempotency_key)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
            """,
            connection,
            transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            insert.Parameters.Add(new NpgsqlParameter { Value = auditEvent });
            insert.Parameters.Add(new NpgsqlParameter { Value = actor });
            insert.Parameters.Add(new NpgsqlParameter { Value = reason });
            insert.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(details), NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter { Value = key });
            if (await insert.ExecuteScalarAsync(cancellationToken) is long id)
            {
                return (id, true);
            }
        }

        var existing = await FindAsync(connection, transaction, key, cancellationToken)
                       ?? throw new InvalidOperationException($"Audit row '{key}' conflicted but cannot be read back.");
        existing.Details.Dispose();
        return (existing.Id, false);
    }
}
