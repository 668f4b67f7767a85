using Npgsql;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// The platform's master database (tenants, servers, audit). One pooled <see cref="NpgsqlDataSource"/>
/// for the process: the control plane is never renamed or dropped, so pooling is safe here.
/// </summary>
public sealed class ControlPlaneDatabase(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _ensuredScripts = new(StringComparer.Ordinal);

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

    /// <summary>
    /// Makes sure RcmPitr's own <paramref name="tables"/> exist, creating its schema when they do not (a master that missed
    /// the hosts' start-up migration); when the login may not create them, fails naming the <paramref name="script"/> an
    /// owner must apply. Returns once they exist; once they have, later calls for that script return at once.
    /// </summary>
    public async Task EnsureOwnTablesAsync(IReadOnlyList<string> tables, string script, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (_ensuredScripts.ContainsKey(script))
        {
            return;
        }

        await EnsureOwnTablesOnceAsync(tables, script, cancellationToken);
        _ensuredScripts.TryAdd(script, true);
    }

    private async Task EnsureOwnTablesOnceAsync(IReadOnlyList<string> tables, string script, CancellationToken cancellationToken)
    {
        await using (var connection = await OpenAsync(cancellationToken))
        await using (var check = new NpgsqlCommand("SELECT bool_and(to_regclass(t) IS NOT NULL) FROM unnest($1::text[]) AS t", connection))
        {
            check.Parameters.Add(new NpgsqlParameter { Value = tables.ToArray() });
            if ((bool)(await check.ExecuteScalarAsync(cancellationToken))!)
            {
                return;
            }
        }

        try
        {
            await MigrateOwnSchemaAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new InvalidOperationException(
                $"The master database lacks RcmPitr's {string.Join(" and ", tables)}, and the control-plane login may not create " +
                $"{(tables.Count == 1 ? "it" : "them")}. Apply src/RcmPitr.Postgres/Schema/master/{script} once as the database owner (docs/master-schema.md).",
                e);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
