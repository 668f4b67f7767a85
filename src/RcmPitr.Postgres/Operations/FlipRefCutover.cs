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

    /// <summary>
    /// Undoes run <see cref="RollbackFlipInput.RunId"/>'s flip: the tenant's reference goes back to the one the flip replaced,
    /// with an audit row (and the database it points at), in one transaction — only while the reference is still the one
    /// the flip set. The restored database keeps its name. A retry finds its audit row and reports done.
    /// </summary>
    public async Task<RollbackFlipResult> RollBackAsync(RollbackFlipInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var key = $"{runId}:flip-ref-rollback";
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var currentRef = await LockCurrentRefAsync(connection, transaction, input.TenantId, cancellationToken);
        if (await AuditRows.FindAsync(connection, transaction, key, cancellationToken) is { } done)
        {
            using var doneDetails = done.Details;
            await transaction.CommitAsync(cancellationToken);
            return new RollbackFlipResult(doneDetails.RootElement.GetProperty("to").GetString()!, doneDetails.RootElement.GetProperty("parked").GetString()!, Changed: false);
        }

        var flip = await AuditRows.FindAsync(connection, transaction, $"{runId}:flip-ref", cancellationToken)
                   ?? throw new DatabaseStateConflictException($"Cannot roll back: run {runId} never flipped the tenant's reference. Nothing was changed.");
        string previousRef, flippedRef, flippedDatabase;
        using (var details = flip.Details)
        {
            previousRef = details.RootElement.GetProperty("from").GetString()!;
            flippedRef = details.RootElement.GetProperty("to").GetString()!;
            flippedDatabase = details.RootElement.GetProperty("database").GetString()!;
        }

        if (currentRef != flippedRef)
        {
            throw new DatabaseStateConflictException(
                $"Cannot roll back: the tenant's reference is '{currentRef}', not '{flippedRef}' that run {runId} set; it was changed since. Nothing was changed.");
        }

        string previousDatabase;
        try
        {
            previousDatabase = ConnectionSecrets.DatabaseOf(await secrets.GetSecretAsync(previousRef, cancellationToken));
        }
        catch (KeyNotFoundException)
        {
            throw new DatabaseStateConflictException($"Cannot roll back: the previous reference '{previousRef}' no longer resolves to a secret. Nothing was changed.");
        }

        await using (var update = new NpgsqlCommand("UPDATE identity.tenant SET db_config_ref = $2 WHERE id = $1", connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = input.TenantId });
            update.Parameters.Add(new NpgsqlParameter { Value = previousRef });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        var rollback = new Dictionary<string, string> { ["from"] = flippedRef, ["to"] = previousRef, ["database"] = previousDatabase, ["parked"] = flippedDatabase, ["runId"] = runId };
        await AuditRows.InsertAsync(connection, transaction, key, input.TenantId, AuditEvents.DbRefChanged, "rcm-pitr", $"rollback of the flip-the-ref cutover of run {runId}", rollback, cancellationToken);
        await TenantNotifications.NotifyAsync(connection, transaction, input.TenantId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RollbackFlipResult(previousRef, flippedDatabase, Changed: true);
    }

    private static async Task<string> LockCurrentRefAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT db_config_ref FROM identity.tenant WHERE id = $1 FOR UPDATE", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        return await command.ExecuteScalarAsync(cancellationToken) as string ?? throw new TenantNotFoundException(tenantId.ToString());
    }
}
