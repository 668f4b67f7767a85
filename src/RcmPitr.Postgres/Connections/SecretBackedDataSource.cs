using Npgsql;

namespace RcmPitr.Postgres.Connections;

/// <summary>A pooled data source whose password is looked up in the secret store when a physical connection opens.</summary>
public static class SecretBackedDataSource
{
    /// <summary>Builds the data source for <paramref name="endpoint"/>.</summary>
    public static NpgsqlDataSource Create(DatabaseEndpoint endpoint, ISecretStore secrets, SslMode sslMode)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(secrets);
        var builder = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host,
            Port = endpoint.Port,
            Database = endpoint.Database,
            Username = endpoint.Username,
            SslMode = sslMode,
            ApplicationName = "rcm-pitr",
            IncludeErrorDetail = false,
        }.ConnectionString);
        builder.UsePasswordProvider(
            _ => secrets.GetSecretAsync(endpoint.PasswordSecretRef, CancellationToken.None).GetAwaiter().GetResult(),
            async (_, ct) => await secrets.GetSecretAsync(endpoint.PasswordSecretRef, ct));
        return builder.Build();
    }
}
