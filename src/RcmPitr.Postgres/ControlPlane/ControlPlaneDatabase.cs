using Npgsql;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// The platform's master database (tenants, servers, audit). One pooled <see cref="NpgsqlDataSource"/>
/// for the process: the control plane is never renamed or dropped, so pooling is safe here.
/// </summary>
public sealed class ControlPlaneDatabase(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    /// <summary>The pooled data source.</summary>
    public NpgsqlDataSource DataSource { get; } = dataSource;

    /// <summary>Opens a connection from the pool.</summary>
    public ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) => DataSource.OpenConnectionAsync(cancellationToken);

    /// <summary>Creates or upgrades the control-plane tables RcmPitr relies on (local use and tests).</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await SchemaMigrator.MigrateAsync(connection, EmbeddedSchema.Master, cancellationToken);
    }

    /// <summary>
    /// Creates or upgrades RcmPitr's own schema (<c>rcm_pitr</c>) only, never the platform's tables: how RcmPitr's tables
    /// reach a production master, on first use by the step that needs them.
    /// </summary>
    public async Task<IReadOnlyList<string>> MigrateOwnSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await SchemaMigrator.MigrateOwnMasterAsync(connection, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
