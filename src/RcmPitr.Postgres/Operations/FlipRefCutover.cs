using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Runbook step 6, flip-the-ref: the restored database keeps its suffixed name; a new connection secret
/// <c>tenant-db-&lt;slug&gt;-&lt;stamp&gt;</c> (a copy of the current one, repointed at it) is written, then
/// <c>identity.tenant.db_config_ref</c> is switched to it with an audit row, in one transaction. The
/// secret write is an overwrite and the update checks the current value, so a retry converges.
/// </summary>
public sealed class FlipRefCutover(ControlPlaneDatabase master, PgConnector connector, ISecretStore secrets)
{
    /// <summary>The reference a flip to <paramref name="stamp"/> writes.</summary>
    public static string NewRefFor(TenantSlug slug, RestoreStamp stamp, string runId) => $"tenant-db-{slug.Value}-{stamp.Value}-{RunIds.Tag(runId)}";

    /// <summary>Flips the tenant to the restore database.</summary>
    public async Task<FlipRefCutoverResult> FlipAsync(FlipRefCutoverInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var slug = TenantSlug.Parse(input.Tenant);
        var stamp = RestoreStamp.Parse(input.Stamp);
        var target = TenantDatabaseNames.For(slug).Restore(stamp, runId);
        var newRef = NewRefFor(slug, stamp, runId);

        await using (var maintenance = await connector.OpenMaintenanceAsync(input.Live, cancellationToken))
        {
            var entry = await new ServerCatalog(maintenance).FindAsync(target, cancellationToken);
            if (entry?.Marker?.IsLoadedBy(runId) != true)
            {
                throw new DatabaseStateConflictException($"Cannot flip the reference: {target} is not a finished load of run {runId}. Nothing was changed.");
            }
        }

        await using var connection = await master.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var currentRef = await LockCurrentRefAsync(connection, transaction, input.TenantId, cancellationToken);
        var key = $"{runId}:flip-ref";
        if (currentRef == newRef)
        {
            var earlier = await AuditRows.FindAsync(connection, transaction, key, cancellationToken);
            var previous = earlier?.Details.RootElement.GetProperty("from").GetString();
            earlier?.Details.Dispose();
            await transaction.CommitAsync(cancellationToken);
            return new FlipRefCutoverResult(previous, newRef, target, Changed: false);
        }

        var current = await secrets.GetSecretAsync(currentRef, cancellationToken);
        await secrets.SetSecretAsync(newRef, ConnectionSecrets.WithDatabase(current, target), cancellationToken);

        await using (var update = new NpgsqlCommand("UPDATE identity.tenant SET db_config_ref = $2 WHERE id = $1", connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = input.TenantId });
            update.Parameters.Add(new NpgsqlParameter { Value = newRef });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        var details = new Dictionary<string, string> { ["from"] = currentRef, ["to"] = newRef, ["database"] = target, ["runId"] = runId };
        await AuditRows.InsertAsync(connection, transaction, key, input.TenantId, AuditEvents.DbRefChanged, "rcm-pitr", $"flip-the-ref cutover of run {runId}", details, cancellationToken);
        await TenantNotifications.NotifyAsync(connection, transaction, input.TenantId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new FlipRefCutoverResult(currentRef, newRef, target, Changed: true);
    }

    private static async Task<string> LockCurrentRefAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT db_config_ref FROM identity.tenant WHERE id = $1 FOR UPDATE", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        return await command.ExecuteScalarAsync(cancellationToken) as string ?? throw new TenantNotFoundException(tenantId.ToString());
    }
}
