using Npgsql;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// Applies the embedded scripts of one set to a database, each once, in version order, each in its own
/// transaction, recorded in <c>rcm_pitr_meta.schema_migrations</c>. A transaction-scoped advisory lock
/// lets several processes start at once without applying a script twice.
/// </summary>
public static class SchemaMigrator
{
    private const long AdvisoryLockKey = 0x52434D5049545231; // "RCMPITR1"

    /// <summary>Applies what is missing and returns the names of the scripts applied now.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(NpgsqlConnection connection, string set, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var applied = new List<string>();
        foreach (var (name, sql) in EmbeddedSchema.Scripts(set))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", cancellationToken);
            await ExecuteAsync(
                connection,
                transaction,
                """
                CREATE SCHEMA IF NOT EXISTS rcm_pitr_meta;
                CREATE TABLE IF NOT EXISTS rcm_pitr_meta.schema_migrations (
                  script_set text NOT NULL,
                  name       text NOT NULL,
                  applied_at timestamptz NOT NULL DEFAULT now(),
                  PRIMARY KEY (script_set, name))
                """,
                cancellationToken);

            await using (var check = new NpgsqlCommand("SELECT 1 FROM rcm_pitr_meta.schema_migrations WHERE script_set = $1 AND name = $2", connection, transaction))
            {
                check.Parameters.Add(new NpgsqlParameter { Value = set });
                check.Parameters.Add(new NpgsqlParameter { Value = name });
                if (await check.ExecuteScalarAsync(cancellationToken) is not null)
                {
                    await transaction.CommitAsync(cancellationToken);
                    continue;
                }
            }

            await ExecuteAsync(connection, transaction, sql, cancellationToken);
            await using (var record = new NpgsqlCommand("INSERT INTO rcm_pitr_meta.schema_migrations (script_set, name) VALUES ($1, $2)", connection, transaction))
            {
                record.Parameters.Add(new NpgsqlParameter { Value = set });
                record.Parameters.Add(new NpgsqlParameter { Value = name });
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            applied.Add(name);
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
