using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Postgres.ControlPlane;

namespace RcmPitr.Api;

/// <summary>
/// At start-up, creates or upgrades RcmPitr's own tables in the master database (schema <c>rcm_pitr</c>: decision attempts,
/// the tenant lock, restored servers and their holders, transfer progress and its estimate) — never the platform's. The API relies on
/// them from its first request (the first decision must win atomically; one run per tenant). A login that may not create
/// them is logged with the scripts a database owner must apply; the host still starts.
/// </summary>
public sealed partial class OwnSchemaStartup(ControlPlaneDatabase master, ILogger<OwnSchemaStartup> logger) : IHostedService
{
    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var applied = await master.MigrateOwnSchemaAsync(cancellationToken);
            if (applied.Count > 0)
            {
                LogApplied(logger, string.Join(", ", applied));
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            LogNoPrivilege(logger, e);
        }
        catch (NpgsqlException e)
        {
            LogUnreachable(logger, e);
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "RcmPitr's master tables created or upgraded: {Scripts}")]
    private static partial void LogApplied(ILogger logger, string scripts);

    [LoggerMessage(Level = LogLevel.Error, Message = "The control-plane login may not create RcmPitr's tables (schema rcm_pitr): a database owner must apply src/RcmPitr.Postgres/Schema/master/V002 and later once (docs/master-schema.md); approvals and starts fail until then")]
    private static partial void LogNoPrivilege(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The master database could not be reached at start-up to create or check RcmPitr's tables (schema rcm_pitr); if they are missing, starts and approvals fail until the host starts again with the master reachable")]
    private static partial void LogUnreachable(ILogger logger, Exception exception);
}
