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
/// A freeze is owned by its run: only that run lifts it, and only while it is the tenant's latest status change.
/// </summary>
public sealed class TenantStatusChanger(ControlPlaneDatabase master)
{
    /// <summary>
    /// Freezes the tenant for run <see cref="FreezeTenantInput.RunId"/>: an active tenant, or — when
    /// <see cref="FreezeTenantInput.TakeOverFrom"/> names a run — a tenant still frozen by that run, whose freeze this run
    /// then owns (a rollback taking over from the restore whose post-cutover steps left the tenant frozen).
    /// </summary>
    public async Task<FreezeTenantResult> FreezeAsync(FreezeTenantInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var key = $"{runId}:freeze";
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var tenant = await LockTenantAsync(connection, transaction, input.TenantId, cancellationToken);

        var earlier = await AuditRows.FindAsync(connection, transaction, key, cancellationToken);
        if (earlier is { } done)
        {
            using var details = done.Details;
            var previous = TenantStatusText.Parse(details.RootElement.GetProperty("from").GetString()!);
            await transaction.CommitAsync(cancellationToken);
            return new FreezeTenantResult(previous, Changed: false, TookOver: details.RootElement.TryGetProperty("takenOverFrom", out _));
        }

        if (tenant.Status == TenantStatus.Active)
        {
            await ChangeAsync(connection, transaction, input.TenantId, TenantStatus.Active, TenantStatus.ReadOnly, key, runId, input.Actor, input.Reason, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new FreezeTenantResult(TenantStatus.Active, Changed: true);
        }

        if (input.TakeOverFrom is { } owner && tenant.Status == TenantStatus.ReadOnly &&
            await FrozenByAsync(connection, transaction, RunIds.Require(owner), tenant, cancellationToken) is not null)
        {
            await ChangeAsync(connection, transaction, input.TenantId, TenantStatus.ReadOnly, TenantStatus.ReadOnly, key, runId, input.Actor, input.Reason, cancellationToken, takenOverFrom: owner);
            await transaction.CommitAsync(cancellationToken);
            return new FreezeTenantResult(TenantStatus.ReadOnly, Changed: true, TookOver: true);
        }

        throw new TenantStatusConflictException(
            tenant.Slug,
            TenantStatusText.ToText(tenant.Status),
            input.TakeOverFrom is null ? "'active' before a freeze" : $"'active', or still frozen by run {input.TakeOverFrom}");
    }

    /// <summary>
    /// Unfreezes the tenant, but only a freeze this run owns: its <c>&lt;run&gt;:freeze</c> change must be the tenant's
    /// latest status change and the tenant still <c>read_only</c>. A freeze of another run, one this run's refused freeze
    /// found, or a status someone set since (an operator's freeze, a suspension) is left alone and reported.
    /// </summary>
    public async Task<UnfreezeTenantResult> UnfreezeAsync(UnfreezeTenantInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var key = $"{runId}:unfreeze";
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var tenant = await LockTenantAsync(connection, transaction, input.TenantId, cancellationToken);

        if (await AuditRows.FindAsync(connection, transaction, key, cancellationToken) is { } done)
        {
            done.Details.Dispose();
            await transaction.CommitAsync(cancellationToken);
            return new UnfreezeTenantResult(UnfreezeOutcome.Unfrozen, tenant.Status);
        }

        var outcome = tenant.Status switch
        {
            TenantStatus.Active => UnfreezeOutcome.AlreadyActive,
            TenantStatus.Suspended => UnfreezeOutcome.LeftSuspended,
            _ when await FrozenByAsync(connection, transaction, runId, tenant, cancellationToken) is not null => UnfreezeOutcome.Unfrozen,
            _ => UnfreezeOutcome.NotFrozenByThisRun,
        };
        var status = tenant.Status;
        if (outcome == UnfreezeOutcome.Unfrozen)
        {
            await ChangeAsync(connection, transaction, input.TenantId, TenantStatus.ReadOnly, TenantStatus.Active, key, runId, input.Actor, input.Reason, cancellationToken);
            status = TenantStatus.Active;
        }

        await transaction.CommitAsync(cancellationToken);
        return new UnfreezeTenantResult(outcome, status);
    }

    /// <summary>
    /// Confirms, right before a cutover, that the tenant is still frozen by this run — not unfrozen or re-frozen by
    /// anyone since — so no write made after the freeze can be moved aside by the swap. Throws
    /// <see cref="TenantStatusConflictException"/> naming the status found, its reason and when it was set.
    /// </summary>
    public async Task<ConfirmFreezeResult> ConfirmFreezeAsync(ConfirmFreezeInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var tenant = await LockTenantAsync(connection, transaction, input.TenantId, cancellationToken);
        var frozenAt = tenant.Status == TenantStatus.ReadOnly ? await FrozenByAsync(connection, transaction, runId, tenant, cancellationToken) : null;
        await transaction.CommitAsync(cancellationToken);
        return frozenAt is { } at
            ? new ConfirmFreezeResult(at)
            : throw new TenantStatusConflictException(
                tenant.Slug,
                TenantStatusText.ToText(tenant.Status),
                $"'read_only' by run {runId}: it is no longer frozen by run {runId} (status set at {tenant.ChangedAt.UtcDateTime:O}, reason: {Shorten(tenant.Reason)})");
    }

    /// <summary>When this run's freeze is the tenant's latest status change, its time; else null.</summary>
    private static async Task<DateTimeOffset?> FrozenByAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string runId, LockedTenant tenant, CancellationToken cancellationToken)
    {
        // The freeze's status update and its audit row commit in one transaction, so both carry that transaction's now():
        // any later status change (audited or not) moves status_changed_at away from the freeze row's time.
        await using var command = new NpgsqlCommand("SELECT created_at FROM identity.tenant_audit WHERE idempotency_key = $1", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = $"{runId}:freeze" });
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime created && new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) == tenant.ChangedAt
            ? tenant.ChangedAt
            : null;
    }

    private static string Shorten(string? reason) => reason is null ? "none" : reason.Length <= 120 ? reason : reason[..120] + "…";

    private static async Task<LockedTenant> LockTenantAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT slug, status, status_reason, status_changed_at FROM identity.tenant WHERE id = $1 FOR UPDATE", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new LockedTenant(
                reader.GetString(0),
                TenantStatusText.Parse(reader.GetString(1)),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc)))
            : throw new TenantNotFoundException(tenantId.ToString());
    }

    private sealed record LockedTenant(string Slug, TenantStatus Status, string? Reason, DateTimeOffset ChangedAt);

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
        CancellationToken cancellationToken,
        string? takenOverFrom = null)
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
        if (takenOverFrom is not null)
        {
            details["takenOverFrom"] = takenOverFrom;
        }

        await AuditRows.InsertAsync(connection, transaction, key, tenantId, AuditEvents.StatusChanged, actor, reason, details, cancellationToken);
        await TenantNotifications.NotifyAsync(connection, transaction, tenantId, cancellationToken);
    }
}
