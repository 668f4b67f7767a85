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
    public static Task<IReadOnlyList<string>> MigrateAsync(NpgsqlConnection connection, string set, CancellationToken cancellationToken) =>
        ApplyAsync(connection, set, EmbeddedSchema.Scripts(set), cancellationToken);

    /// <summary>
    /// Applies the missing scripts of RcmPitr's own master schema (<c>rcm_pitr</c>) and none of the platform's
    /// (<see cref="EmbeddedSchema.PlatformMasterScripts"/>): what a production master gets, where the platform owns the rest.
    /// </summary>
    public static Task<IReadOnlyList<string>> MigrateOwnMasterAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        ApplyAsync(connection, EmbeddedSchema.Master, EmbeddedSchema.OwnMasterScripts(), cancellationToken);

    private static async Task<IReadOnlyList<string>> ApplyAsync(
        NpgsqlConnection connection, string set, IReadOnlyList<(string Name, string Sql)> scripts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var applied = new List<string>();
        foreach (var (name, sql) in scripts)
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
