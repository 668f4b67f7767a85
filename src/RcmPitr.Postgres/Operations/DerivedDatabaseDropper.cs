using Microsoft.Extensions.Logging;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Drops one database RcmPitr derived from a tenant's name: a temporary restore database at clean-up,
/// the kept <c>_pre_pitr_</c> one after its retention, a parked <c>_rollback_</c> one, or an as-of copy.
/// The name is computed from slug, stamp, run and kind — it is never taken as input — so the canonical
/// database or a sibling's cannot be named here, and the database must carry the calling run's marker for
/// its kind (loading/loaded, kept, parked): anything else is left in place and reported, never dropped.
/// Idempotent: a missing database is "already dropped".
/// </summary>
public sealed partial class DerivedDatabaseDropper(PgConnector connector, ILogger<DerivedDatabaseDropper> logger)
{
    /// <summary>Drops the database if it exists and may be dropped.</summary>
    public async Task<DropDerivedDatabaseResult> DropAsync(DropDerivedDatabaseInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var stamp = RestoreStamp.Parse(input.Stamp);
        var names = TenantDatabaseNames.For(TenantSlug.Parse(input.Tenant));
        var name = names.Derived(input.Kind, stamp, runId);
        if (name == names.Canonical)
        {
            throw new InvalidOperationException($"Refusing to drop {name}: it is the tenant's canonical database.");
        }

        await using var maintenance = await connector.OpenMaintenanceAsync(input.Live, cancellationToken);
        var catalog = new ServerCatalog(maintenance);
        var entry = await catalog.FindAsync(name, cancellationToken);
        if (entry is null)
        {
            return new DropDerivedDatabaseResult(name, Dropped: false);
        }

        // Only what this run made and marked is its own to drop; a database without its marker never is.
        if (entry.Marker is not { } marker || marker.RunId != runId || !OwnedStates(input.Kind).Contains(marker.State))
        {
            var whose = entry.Marker?.Format() ?? "no RcmPitr marker";
            LogNotOurs(logger, name, whose);
            return new DropDerivedDatabaseResult(name, Dropped: false, NotOurs: $"{name} is not run {runId}'s ({whose}); left in place");
        }

        // Keeping the previous database is the tenant's safety net; only let it go while the live one exists.
        var live = SwapCutover.LiveName(names, input.LiveDatabase);
        if (input.Kind is DerivedDatabaseKind.PrePitr or DerivedDatabaseKind.Rollback && await catalog.FindAsync(live, cancellationToken) is null)
        {
            throw new DatabaseStateConflictException(
                $"Refusing to drop {name}: {live} does not exist, so {name} may be the tenant's only copy.");
        }

        await catalog.DropIfExistsAsync(name, cancellationToken);
        LogDropped(logger, name);
        return new DropDerivedDatabaseResult(name, Dropped: true);
    }

    private static IReadOnlyList<string> OwnedStates(DerivedDatabaseKind kind) => kind switch
    {
        DerivedDatabaseKind.PrePitr => [DatabaseMarker.Kept],
        DerivedDatabaseKind.Rollback => [DatabaseMarker.Parked],
        _ => [DatabaseMarker.Loading, DatabaseMarker.Loaded],
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not dropping {Database}: it is not this run's ({Marker})")]
    private static partial void LogNotOurs(ILogger logger, string database, string marker);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped {Database}")]
    private static partial void LogDropped(ILogger logger, string database);
}
