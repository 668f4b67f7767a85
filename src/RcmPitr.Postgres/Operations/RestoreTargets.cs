using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// The new database a load or a transfer fills (<c>_restore_</c>, or <c>_asof_</c> for a snapshot), made ready the
/// same way by both: a finished fill by this run is reused; a partial one by this run is dropped and created again;
/// one without this run's marker (another run's, an operator's) is refused untouched.
/// </summary>
internal static class RestoreTargets
{
    /// <summary>The derived database's name; refuses kinds that are not filled by a load.</summary>
    public static string NameFor(TenantDatabaseNames names, RestoreStamp stamp, string runId, DerivedDatabaseKind kind) => kind switch
    {
        DerivedDatabaseKind.Restore or DerivedDatabaseKind.AsOf => names.Derived(kind, stamp, runId),
        _ => throw new InvalidRestoreInputException("target", $"a tenant database is loaded into a restore or as-of database, not '{kind}'"),
    };

    /// <summary>
    /// True when <paramref name="finished"/> says run <paramref name="runId"/> already filled <paramref name="target"/>;
    /// otherwise the database exists afterwards, empty and marked loading. <paramref name="droppingPartial"/> is told
    /// before a partial fill of this run is dropped.
    /// </summary>
    public static async Task<bool> PrepareAsync(
        PgConnector connector,
        ServerCatalog catalog,
        TenantDatabaseNames names,
        string target,
        string runId,
        RestoreStamp stamp,
        Func<DatabaseMarker, bool> finished,
        Action droppingPartial,
        CancellationToken cancellationToken)
    {
        var existing = await catalog.FindAsync(target, cancellationToken);
        if (existing?.Marker is { } marker && finished(marker))
        {
            return true;
        }

        if (existing is not null)
        {
            if (existing.Marker is not { } own || own.RunId != runId)
            {
                throw new DatabaseStateConflictException(
                    $"{target} already exists and is not run '{runId}''s ({existing.Marker?.Format() ?? "no RcmPitr marker"}). RcmPitr never drops a database " +
                    "it did not mark as its own; find out what it is. Nothing was changed.");
            }

            droppingPartial();
            await catalog.DropIfExistsAsync(target, cancellationToken);
        }

        // Created under a name only this run uses, marked, and only then given its target name: no database without
        // this run's marker ever carries a derived name, so nothing unmarked ever has to be dropped by that name.
        var temporary = TemporaryName(runId, target);
        await catalog.DropIfExistsAsync(temporary, cancellationToken);
        // The new database takes the encoding and locale of the tenant's live one (or the server default
        // when the live database is gone, as after losing a server).
        var localeFrom = await catalog.FindAsync(names.Canonical, cancellationToken)
                         ?? await catalog.FindAsync(connector.Options.MaintenanceDatabase, cancellationToken)
                         ?? throw new InvalidOperationException("The maintenance database is missing.");
        await catalog.CreateAsync(temporary, localeFrom, new DatabaseMarker(DatabaseMarker.Loading, runId, stamp.Value), cancellationToken);
        await catalog.RenameAsync(temporary, target, cancellationToken);
        return false;
    }

    /// <summary>The temporary name a run creates <paramref name="target"/> under: <c>rcmtmp_</c> and a hash of both.</summary>
    internal static string TemporaryName(string runId, string target) =>
        "rcmtmp_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(runId + "/" + target)))[..24];
}
