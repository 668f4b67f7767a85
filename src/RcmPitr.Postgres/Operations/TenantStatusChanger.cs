using Npgsql;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Runbook steps 1 and 8: freeze (<c>active → read_only</c>) and unfreeze (<c>read_only → active</c>).
/// Each change, its audit row and its <c>pg_notify</c> commit together in one transaction, under a row
/// lock on the tenant; the audit row's key (run + step) tells a retry that the change already happened.
/// </summary>
public sealed class TenantStatusChanger(ControlPlaneDatabase master)
{
    /// <summary>Freezes the tenant for run <see cref="FreezeTenantInput.RunId"/>.</summary>
    public async Task<FreezeTenantResult> FreezeAsync(FreezeTenantInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var key = $"{RunIds.Require(input.RunId)}:freeze";
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var (slug, status) = await LockTenantAsync(connection, transaction, input.TenantId, cancellationToken);

        var earlier = await AuditRows.FindAsync(connection, transaction, key, cancellationToken);
        if (earlier is { } done)
        {
            using var details = done.Details;
            var previous = TenantStatusText.Parse(details.RootElement.GetProperty("from").GetString()!);
            await transaction.CommitAsync(cancellationToken);
            return new FreezeTenantResult(previous, Changed: false);
        }

        if (status != TenantStatus.Active)
        {
            throw new TenantStatusConflictException(slug, TenantStatusText.ToText(status), "'active' before a freeze");
        }

        await ChangeAsync(connection, transaction, input.TenantId, TenantStatus.Active, TenantStatus.ReadOnly, key, input.RunId, input.Actor, input.Reason, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new FreezeTenantResult(TenantStatus.Active, Changed: true);
    }

    /// <summary>
    /// Unfreezes the tenant. An <c>active</c> tenant is left alone, and so is a <c>suspended</c> one: a
    /// restore never lifts an operator's suspension.
    /// </summary>
    public async Task<UnfreezeTenantResult> UnfreezeAsync(UnfreezeTenantInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var key = $"{RunIds.Require(input.RunId)}:unfreeze";
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var (_, status) = await LockTenantAsync(connection, transaction, input.TenantId, cancellationToken);

        if (await AuditRows.FindAsync(connection, transaction, key, cancellationToken) is { } done)
        {
            done.Details.Dispose();
            await transaction.CommitAsync(cancellationToken);
            return new UnfreezeTenantResult(UnfreezeOutcome.Unfrozen, status);
        }

        var outcome = status switch
        {
            TenantStatus.ReadOnly => UnfreezeOutcome.Unfrozen,
            TenantStatus.Active => UnfreezeOutcome.AlreadyActive,
            _ => UnfreezeOutcome.LeftSuspended,
        };
        if (outcome == UnfreezeOutcome.Unfrozen)
        {
            await ChangeAsync(connection, transaction, input.TenantId, TenantStatus.ReadOnly, TenantStatus.Active, key, input.RunId, input.Actor, input.Reason, cancellationToken);
            status = TenantStatus.Active;
        }

        await transaction.CommitAsync(cancellationToken);
        return new UnfreezeTenantResult(outcome, status);
    }

    private static async Task<(string Slug, TenantStatus Status)> LockTenantAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT slug, status FROM identity.tenant WHERE id = $1 FOR UPDATE", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetString(0), TenantStatusText.Parse(reader.GetString(1)))
            : throw new TenantNotFoundException(tenantId.ToString());
    }

    private static async Task ChangeAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        Guid tenantId,
        TenantStatus from,
        TenantStatus to,
        string key,
        string runId,
        string actor,
        string reason,
        CancellationToken cancellationToken)
    {
        await using (var update = new NpgsqlCommand(
            "UPDATE identity.tenant SET status = $2, status_reason = $3, status_changed_at = now() WHERE id = $1",
            connection,
            transaction))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            update.Parameters.Add(new NpgsqlParameter { Value = TenantStatusText.ToText(to) });
            update.Parameters.Add(new NpgsqlParameter { Value = reason });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        var details = new Dictionary<string, string>
        {
            ["from"] = TenantStatusText.ToText(from),
            ["to"] = TenantStatusText.ToText(to),
            ["runId"] = runId,
        };
        await AuditRows.InsertAsync(connection, transaction, key, tenantId, AuditEvents.StatusChanged, actor, reason, details, cancellationToken);
        await TenantNotifications.NotifyAsync(connection, transaction, tenantId, cancellationToken);
    }
}
