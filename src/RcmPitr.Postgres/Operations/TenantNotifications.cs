using Npgsql;

namespace RcmPitr.Postgres.Operations;

/// <summary>The platform's cache-invalidation channel (runbook step 7).</summary>
internal static class TenantNotifications
{
    /// <summary>The channel rcm-core's TenantStatusCache and TenantMetadataCache listen on.</summary>
    public const string Channel = "tenant.status.changed";

    /// <summary>Queues the notification on <paramref name="connection"/>; inside a transaction it is delivered at commit.</summary>
    public static async Task NotifyAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_notify($1, $2)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = Channel });
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId.ToString() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
