using Npgsql;
using Polly;
using Polly.Retry;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Connections;

/// <summary>
/// Opens connections to tenant servers described by <see cref="DbServerInfo"/>, resolving the admin
/// password from the secret store inside the activity. Connections are not pooled: the databases they
/// touch get renamed and dropped, which PostgreSQL refuses while any session (an idle pooled one
/// included) is attached.
/// </summary>
public sealed class PgConnector(ISecretStore secrets, PgConnectionOptions options)
{
    // Short transient faults only (a server restarting, a dropped socket). Long waits are the workflow's job.
    private static readonly ResiliencePipeline OpenRetry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(e => e.IsTransient),
            MaxRetryAttempts = 4,
            Delay = TimeSpan.FromMilliseconds(250),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();

    /// <summary>The options in force.</summary>
    public PgConnectionOptions Options => options;

    /// <summary>Opens a connection to <paramref name="database"/> on <paramref name="server"/>.</summary>
    public async Task<NpgsqlConnection> OpenAsync(DbServerInfo server, string database, CancellationToken cancellationToken)
    {
        var connectionString = await BuildConnectionStringAsync(server, database, cancellationToken);
        return await OpenRetry.ExecuteAsync(
            async token =>
            {
                var connection = new NpgsqlConnection(connectionString);
                try
                {
                    await connection.OpenAsync(token);
                    return connection;
                }
                catch
                {
                    await connection.DisposeAsync();
                    throw;
                }
            },
            cancellationToken);
    }

    /// <summary>Opens a connection to the maintenance database, for catalog work.</summary>
    public Task<NpgsqlConnection> OpenMaintenanceAsync(DbServerInfo server, CancellationToken cancellationToken) =>
        OpenAsync(server, options.MaintenanceDatabase, cancellationToken);

    /// <summary>The admin password of <paramref name="server"/>, for a pgpass file.</summary>
    public Task<string> GetPasswordAsync(DbServerInfo server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        return secrets.GetSecretAsync(server.AdminSecretRef, cancellationToken);
    }

    private async Task<string> BuildConnectionStringAsync(DbServerInfo server, string database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = server.Fqdn,
            Port = server.Port,
            Username = server.AdminUser,
            Password = await GetPasswordAsync(server, cancellationToken),
            Database = database,
            SslMode = options.SslModeFor(server.Fqdn),
            Timeout = options.ConnectTimeoutSeconds,
            CommandTimeout = 0,
            ApplicationName = options.ApplicationName,
            Pooling = false,
            // Error details can quote row values (PHI); keep them out of exceptions and logs.
            IncludeErrorDetail = false,
        };
        return builder.ConnectionString;
    }
}
