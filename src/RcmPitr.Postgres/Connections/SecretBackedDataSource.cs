using Npgsql;

namespace RcmPitr.Postgres.Connections;

/// <summary>A pooled data source whose password is looked up in the secret store when a physical connection opens.</summary>
public static class SecretBackedDataSource
{
    /// <summary>
    /// Builds the data source for <paramref name="endpoint"/> with <paramref name="sslMode"/> for a server reached over
    /// the network; a loopback server gets <see cref="PgConnectionOptions"/>' default loopback mode.
    /// </summary>
    public static NpgsqlDataSource Create(DatabaseEndpoint endpoint, ISecretStore secrets, SslMode sslMode) =>
        Create(endpoint, secrets, new PgConnectionOptions { SslMode = sslMode });

    /// <summary>Builds the data source for <paramref name="endpoint"/>, with the TLS mode <paramref name="options"/> give its host.</summary>
    public static NpgsqlDataSource Create(DatabaseEndpoint endpoint, ISecretStore secrets, PgConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(options);
        var builder = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host,
            Port = endpoint.Port,
            Database = endpoint.Database,
            Username = endpoint.Username,
            SslMode = options.SslModeFor(endpoint.Host),
            ApplicationName = "rcm-pitr",
            IncludeErrorDetail = false,
        }.ConnectionString);
        builder.UsePasswordProvider(
            _ => secrets.GetSecretAsync(endpoint.PasswordSecretRef, CancellationToken.None).GetAwaiter().GetResult(),
            async (_, ct) => await secrets.GetSecretAsync(endpoint.PasswordSecretRef, ct));
        return builder.Build();
    }
}
