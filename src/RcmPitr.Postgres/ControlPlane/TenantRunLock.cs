using Npgsql;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// One run per tenant, enforced atomically in the master database (<c>rcm_pitr.tenant_runs</c>): a start claims the
/// tenant's row; a row held by a run that has ended is taken over with a compare-and-set on the holder, so two starts in
/// the same instant can never both win. For engines without lock keys of their own (Durable Functions).
/// </summary>
public sealed class TenantRunLock(ControlPlaneDatabase master)
{
    /// <summary>
    /// Claims <paramref name="tenant"/> for <paramref name="runId"/>. When another run holds it and <paramref name="isActive"/> says
    /// it is still active, returns that run's id and claims nothing; otherwise returns null and the tenant is this run's.
    /// </summary>
    public async Task<string?> TryClaimAsync(string tenant, string runId, Func<string, Task<bool>> isActive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(isActive);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await using var connection = await master.OpenAsync(cancellationToken);
            await using (var insert = new NpgsqlCommand(
                "INSERT INTO rcm_pitr.tenant_runs (tenant, run_id) VALUES ($1, $2) ON CONFLICT (tenant) DO NOTHING RETURNING run_id", connection))
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = tenant });
                insert.Parameters.Add(new NpgsqlParameter { Value = runId });
                if (await insert.ExecuteScalarAsync(cancellationToken) is not null)
                {
                    return null;
                }
            }

            var holder = await HolderAsync(connection, tenant, cancellationToken);
            if (holder is null)
            {
                continue;
            }

            if (holder == runId)
            {
                return null;
            }

            if (await isActive(holder))
            {
                return holder;
            }

            // The holder has ended: take the tenant over, but only if nobody else did in the meantime.
            await using var takeOver = new NpgsqlCommand("UPDATE rcm_pitr.tenant_runs SET run_id = $3, started_at = now() WHERE tenant = $1 AND run_id = $2", connection);
            takeOver.Parameters.Add(new NpgsqlParameter { Value = tenant });
            takeOver.Parameters.Add(new NpgsqlParameter { Value = holder });
            takeOver.Parameters.Add(new NpgsqlParameter { Value = runId });
            if (await takeOver.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return null;
            }
        }

        throw new InvalidOperationException($"Could not claim tenant '{tenant}': its holder kept changing; retry.");
    }

    /// <summary>Gives the tenant up if <paramref name="runId"/> holds it (a start that failed after claiming).</summary>
    public async Task ReleaseAsync(string tenant, string runId, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("DELETE FROM rcm_pitr.tenant_runs WHERE tenant = $1 AND run_id = $2", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = tenant });
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<string?> HolderAsync(NpgsqlConnection connection, string tenant, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT run_id FROM rcm_pitr.tenant_runs WHERE tenant = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = tenant });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }
}
