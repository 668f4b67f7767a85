using Npgsql;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>Resolves a slug to the tenant, its server and its database name. Read-only, so trivially idempotent.</summary>
public sealed class TenantResolver(ControlPlaneDatabase master)
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
        var tenant = new TenantInfo(
            reader.GetGuid(0), slug.Value, TenantStatusText.Parse(reader.GetString(1)), server, names.Canonical,
            reader.IsDBNull(2) ? null : reader.GetString(2));

        if (input.RequireActive && tenant.Status != TenantStatus.Active)
        {
            throw new TenantStatusConflictException(slug.Value, TenantStatusText.ToText(tenant.Status), "'active'");
        }

        return tenant;
    }
}
