using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Resolves a slug to the tenant, its server and its databases: the one the application uses now — read from the
/// tenant's connection reference (<c>db_config_ref</c> → secret → database), which a flip-the-ref cutover moves — and,
/// for a restore, the one it used at the restore time (from the flip history in the audit trail). Both must be the
/// tenant's own names (canonical or derived from it); anything else is refused rather than guessed. Read-only.
/// </summary>
public sealed class TenantResolver(ControlPlaneDatabase master, ISecretStore secrets)
{
    /// <summary>
    /// Resolves <see cref="ResolveTenantInput.Tenant"/>. Throws <see cref="InvalidRestoreInputException"/> for a
    /// malformed slug, <see cref="TenantNotFoundException"/> for an unknown one, and
    /// <see cref="TenantStatusConflictException"/> when the tenant must be active and is not.
    /// </summary>
    public async Task<TenantInfo> ResolveAsync(ResolveTenantInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var slug = TenantSlug.Parse(input.Tenant);
        var names = TenantDatabaseNames.For(slug);

        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT t.id, t.status, t.db_config_ref,
                   s.name, s.fqdn, s.port, s.admin_user, s.admin_secret_ref, s.major_version, s.arm_resource_id
            FROM identity.tenant t
            JOIN identity.db_server s ON s.name = t.db_server
            WHERE t.slug = $1
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = slug.Value });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new TenantNotFoundException(slug.Value);
        }

        var server = new DbServerInfo(
            reader.GetString(3), reader.GetString(4), reader.GetInt32(5), reader.GetString(6), reader.GetString(7),
            reader.GetInt32(8), reader.IsDBNull(9) ? null : reader.GetString(9));
        var tenantId = reader.GetGuid(0);
        var status = TenantStatusText.Parse(reader.GetString(1));
        var configRef = reader.IsDBNull(2) ? null : reader.GetString(2);
        await reader.CloseAsync();

        var flips = await FlipsAsync(connection, tenantId, cancellationToken);
        var live = await LiveDatabaseAsync(names, configRef, flips, cancellationToken);
        var atRestoreTime = input.RestoreTime is { } t ? DatabaseAt(names, flips, t) : null;
        var tenant = new TenantInfo(
            tenantId, slug.Value, status, server, names.Canonical, configRef,
            live == names.Canonical ? null : live,
            atRestoreTime is null || atRestoreTime == live ? null : atRestoreTime);

        if (input.RequireActive && tenant.Status != TenantStatus.Active)
        {
            throw new TenantStatusConflictException(slug.Value, TenantStatusText.ToText(tenant.Status), "'active'");
        }

        return tenant;
    }

    /// <summary>
    /// The slugs of every tenant on <paramref name="server"/>, with their status, in slug order; null when no such server is
    /// registered (<c>identity.db_server</c>). Read-only.
    /// </summary>
    public async Task<IReadOnlyList<(string Slug, TenantStatus Status)>?> TenantsOnServerAsync(string server, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(server);
        await using var connection = await master.OpenAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM identity.db_server WHERE name = $1", connection))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = server });
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                return null;
            }
        }

        await using var command = new NpgsqlCommand("SELECT slug, status FROM identity.tenant WHERE db_server = $1 ORDER BY slug", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = server });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tenants = new List<(string, TenantStatus)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            tenants.Add((reader.GetString(0), TenantStatusText.Parse(reader.GetString(1))));
        }

        return tenants;
    }

    /// <summary>Every tenant of every registered server: slug, server and status, by server then slug. Read-only.</summary>
    public async Task<IReadOnlyList<(string Slug, string Server, TenantStatus Status)>> AllTenantsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT slug, db_server, status FROM identity.tenant ORDER BY db_server, slug", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tenants = new List<(string, string, TenantStatus)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            tenants.Add((reader.GetString(0), reader.GetString(1), TenantStatusText.Parse(reader.GetString(2))));
        }

        return tenants;
    }

    private async Task<string> LiveDatabaseAsync(TenantDatabaseNames names, string? configRef, IReadOnlyList<(DateTimeOffset At, string Database)> flips, CancellationToken cancellationToken)
    {
        string? live = null;
        if (configRef is not null)
        {
            try
            {
                live = ConnectionSecrets.DatabaseOf(await secrets.GetSecretAsync(configRef, cancellationToken));
            }
            catch (KeyNotFoundException) when (flips.Count == 0)
            {
                // RcmPitr never moved this tenant's reference, so its database is the canonical one.
            }
            catch (FormatException e)
            {
                throw new DatabaseStateConflictException(
                    $"Tenant '{names.Slug.Value}': the connection secret '{configRef}' cannot be read ({e.Message}), so the live database is unknown. Fix the secret first.");
            }
        }

        live ??= flips.Count > 0 ? flips[^1].Database : names.Canonical;
        return names.IsOwnDatabase(live)
            ? live
            : throw new DatabaseStateConflictException(
                $"Tenant '{names.Slug.Value}': its connection reference '{configRef}' points at database '{live}', which is neither {names.Canonical} nor a " +
                "database RcmPitr derived from it. RcmPitr will not guess which database is live; repoint the reference or restore by hand.");
    }

    /// <summary>The database the tenant used at <paramref name="time"/>: the one the last flip before it made live, else the canonical one.</summary>
    private static string DatabaseAt(TenantDatabaseNames names, IReadOnlyList<(DateTimeOffset At, string Database)> flips, DateTimeOffset time)
    {
        var database = flips.LastOrDefault(f => f.At <= time).Database ?? names.Canonical;
        return names.IsOwnDatabase(database)
            ? database
            : throw new DatabaseStateConflictException($"Tenant '{names.Slug.Value}': the audit trail says it used '{database}' at {time.UtcDateTime:O}, which is not one of its databases.");
    }

    /// <summary>Every change of the tenant's reference RcmPitr made (flips and their rollbacks), oldest first, with the database it pointed to.</summary>
    private static async Task<IReadOnlyList<(DateTimeOffset At, string Database)>> FlipsAsync(NpgsqlConnection connection, Guid tenantId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT created_at, details->>'database' FROM identity.tenant_audit WHERE tenant_id = $1 AND event = $2 AND details ? 'database' ORDER BY created_at, id",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = AuditEvents.DbRefChanged });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var flips = new List<(DateTimeOffset, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            flips.Add((new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc)), reader.GetString(1)));
        }

        return flips;
    }
}
