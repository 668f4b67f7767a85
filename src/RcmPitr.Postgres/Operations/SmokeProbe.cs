using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// "Customer can sign in" (the runbook's last validation): connects to the database as the configured application role,
/// with its password from the secret store, and runs the configured query read-only. A failure names the role, the
/// database and the server's error class; never a row, the query's values or the password.
/// </summary>
public sealed class SmokeProbe(ISecretStore secrets, PgConnectionOptions connection, SmokeProbeOptions options)
{
    /// <summary>Whether a probe is configured.</summary>
    public bool Enabled => options.Enabled;

    /// <summary>Runs the probe; returns the role it signed in as. Throws <see cref="DatabaseStateConflictException"/> when it fails.</summary>
    public async Task<string> RunAsync(DbServerInfo server, string database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var role = PgIdentifierRules.RequireIdentifier(options.Role!.Replace(SmokeProbeOptions.DatabasePlaceholder, database, StringComparison.Ordinal), "smokeProbe.role");
        var secret = options.PasswordSecret?.Replace(SmokeProbeOptions.DatabasePlaceholder, database, StringComparison.Ordinal);
        if (string.IsNullOrWhiteSpace(secret))
        {
            throw new InvalidRestoreInputException("smokeProbe.passwordSecret", "the smoke probe has a role but no password secret name");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = server.Fqdn,
            Port = server.Port,
            Username = role,
            Password = await secrets.GetSecretAsync(secret, cancellationToken),
            Database = database,
            SslMode = connection.SslModeFor(server.Fqdn),
            Timeout = connection.ConnectTimeoutSeconds,
            CommandTimeout = Math.Max(1, options.TimeoutSeconds),
            ApplicationName = connection.ApplicationName + "-smoke",
            Pooling = false,
            IncludeErrorDetail = false,
        };
        var step = "connecting";
        try
        {
            await using var session = new NpgsqlConnection(builder.ConnectionString);
            await session.OpenAsync(cancellationToken);
            step = "running the configured query";
            await using var transaction = await session.BeginTransactionAsync(cancellationToken);
            await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", session, transaction))
            {
                await readOnly.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var query = new NpgsqlCommand(options.Query, session, transaction))
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    // Rows are read to make the server finish the query; their values are never looked at.
                }
            }

            await transaction.RollbackAsync(cancellationToken);
            return role;
        }
        catch (PostgresException e)
        {
            // The server's message can quote values; its class and the constraint or object kind are enough to act on.
            throw new DatabaseStateConflictException(
                $"The post-cutover smoke probe failed {step} as {role} on {database}: SQLSTATE {e.SqlState} ({FailureText.Redact(e.MessageText, 200)}). " +
                "The application role may not be able to sign in; the previous database is kept and a rollback swaps it back.");
        }
        catch (NpgsqlException e)
        {
            throw new DatabaseStateConflictException(
                $"The post-cutover smoke probe failed {step} as {role} on {database}: {FailureText.Redact(e.Message, 200)}.");
        }
    }
}
