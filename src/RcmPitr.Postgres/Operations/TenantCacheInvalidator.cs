using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Runbook step 7: <c>pg_notify('tenant.status.changed', &lt;tenant uuid&gt;)</c>. Sending it twice is harmless
/// (listeners reload the tenant), so a retry needs no key.
/// </summary>
public sealed class TenantCacheInvalidator(ControlPlaneDatabase master)
{
    /// <summary>Sends the notification.</summary>
    public async Task InvalidateAsync(InvalidateTenantCacheInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        await using var connection = await master.OpenAsync(cancellationToken);
        await TenantNotifications.NotifyAsync(connection, null, input.TenantId, cancellationToken);
    }
}
