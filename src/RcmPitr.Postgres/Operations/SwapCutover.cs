using Microsoft.Extensions.Logging;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Runbook step 6, swap-and-keep, and its rollback. Both renames run in one transaction, so the tenant's
/// canonical database exists before and after, whatever happens to this process. A re-run looks at which
/// of the three names exist and at the run's marker, and either finishes, reports done, or refuses with
/// the exact state found and what an operator should do — it never guesses.
/// </summary>
public sealed partial class SwapCutover(PgConnector connector, ILogger<SwapCutover> logger)
{
    /// <summary>
    /// <c>canonical → _pre_pitr_&lt;stamp&gt;</c> and <c>_restore_&lt;stamp&gt; → canonical</c>, after ending the
    /// sessions on both. The restore database must carry this run's "loaded" marker.
    /// </summary>
    public async Task<SwapCutoverResult> CutOverAsync(SwapCutoverInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var stamp = RestoreStamp.Parse(input.Stamp);
        var names = TenantDatabaseNames.For(TenantSlug.Parse(input.Tenant));
        string canonical = names.Canonical, restore = names.Restore(stamp, runId), kept = names.PrePitr(stamp, runId);

        await using var maintenance = await connector.OpenMaintenanceAsync(input.Live, cancellationToken);
        var catalog = new ServerCatalog(maintenance);
        var canonicalEntry = await catalog.FindAsync(canonical, cancellationToken);
        var restoreEntry = await catalog.FindAsync(restore, cancellationToken);
        var keptEntry = await catalog.FindAsync(kept, cancellationToken);

        if (canonicalEntry?.Marker?.IsLoadedBy(runId) == true && restoreEntry is null && keptEntry is not null)
        {
            return new SwapCutoverResult(canonical, kept, 0, AlreadyDone: true);
        }

        if (restoreEntry?.Marker?.IsLoadedBy(runId) != true)
        {
            throw new DatabaseStateConflictException(
                $"Cannot cut over: {restore} {(restoreEntry is null ? "does not exist" : "is not a finished load of run " + runId)}. " +
                $"State found: {Describe(canonical, canonicalEntry)}, {Describe(restore, restoreEntry)}, {Describe(kept, keptEntry)}. Nothing was changed.");
        }

        if (canonicalEntry is not null && keptEntry is not null)
        {
            throw new DatabaseStateConflictException(
                $"Cannot cut over: {kept} already exists (an earlier restore to the same minute?). Rename or drop it after checking " +
                $"that it is not needed for a rollback, then retry. {canonical} is untouched and still live.");
        }

        IReadOnlyList<(string, string)> renames = canonicalEntry is null
            // Converge a swap begun by hand or by an older tool: the live database was already moved aside.
            ? [(restore, canonical)]
            : [(canonical, kept), (restore, canonical)];
        if (canonicalEntry is null && keptEntry is null)
        {
            LogNoLiveDatabase(logger, canonical);
        }

        var terminated = await catalog.RenameAtomicallyAsync(renames, cancellationToken);
        LogSwapped(logger, canonical, kept, terminated);
        return new SwapCutoverResult(canonical, kept, terminated, AlreadyDone: false);
    }

    /// <summary>
    /// The runbook's rollback: <c>canonical → _rollback_&lt;stamp&gt;</c> and <c>_pre_pitr_&lt;stamp&gt; → canonical</c>,
    /// allowed while the kept database exists and the canonical one is this run's restore.
    /// </summary>
    public async Task<RollbackSwapResult> RollBackAsync(RollbackSwapInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var stamp = RestoreStamp.Parse(input.Stamp);
        var names = TenantDatabaseNames.For(TenantSlug.Parse(input.Tenant));
        string canonical = names.Canonical, kept = names.PrePitr(stamp, runId), parked = names.Rollback(stamp, runId);

        await using var maintenance = await connector.OpenMaintenanceAsync(input.Live, cancellationToken);
        var catalog = new ServerCatalog(maintenance);
        var canonicalEntry = await catalog.FindAsync(canonical, cancellationToken);
        var keptEntry = await catalog.FindAsync(kept, cancellationToken);
        var parkedEntry = await catalog.FindAsync(parked, cancellationToken);

        if (parkedEntry?.Marker?.IsLoadedBy(runId) == true && keptEntry is null && canonicalEntry is not null)
        {
            return new RollbackSwapResult(canonical, parked, 0, AlreadyDone: true);
        }

        if (keptEntry is null)
        {
            throw new DatabaseStateConflictException(
                $"Cannot roll back: {kept} no longer exists (dropped after the retention period?). State found: " +
                $"{Describe(canonical, canonicalEntry)}, {Describe(parked, parkedEntry)}. Nothing was changed.");
        }

        IReadOnlyList<(string, string)> renames;
        if (canonicalEntry is null)
        {
            // Converge a rollback interrupted after the restored copy was parked: put the kept one back.
            if (parkedEntry is not null && parkedEntry.Marker?.IsLoadedBy(runId) != true)
            {
                throw new DatabaseStateConflictException(
                    $"Cannot roll back: {canonical} is absent and {parked} is not run {runId}'s restore ({Describe(parked, parkedEntry)}). " +
                    $"Inspect both, then rename {kept} to {canonical} by hand. Nothing was changed.");
            }

            renames = [(kept, canonical)];
        }
        else
        {
            if (parkedEntry is not null)
            {
                throw new DatabaseStateConflictException(
                    $"Cannot roll back: {parked} already exists. Check whether it is still needed, rename or drop it, then retry. Nothing was changed.");
            }

            if (canonicalEntry.Marker?.IsLoadedBy(runId) != true)
            {
                throw new DatabaseStateConflictException(
                    $"Cannot roll back: {canonical} is not the database run {runId} restored ({Describe(canonical, canonicalEntry)}); " +
                    "it was replaced since. Nothing was changed.");
            }

            renames = [(canonical, parked), (kept, canonical)];
        }

        var terminated = await catalog.RenameAtomicallyAsync(renames, cancellationToken);
        LogRolledBack(logger, canonical, parked, terminated);
        return new RollbackSwapResult(canonical, parked, terminated, AlreadyDone: false);
    }

    private static string Describe(string name, DatabaseEntry? entry) =>
        entry is null ? $"{name} absent" : $"{name} present ({entry.Marker?.Format() ?? "no RcmPitr marker"})";

    [LoggerMessage(Level = LogLevel.Information, Message = "Swapped {Canonical}: the restored copy is live, the previous database is kept as {Kept}; {Terminated} sessions ended")]
    private static partial void LogSwapped(ILogger logger, string canonical, string kept, int terminated);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Canonical} did not exist before cutover (a lost server?); the restored copy becomes it")]
    private static partial void LogNoLiveDatabase(ILogger logger, string canonical);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rolled back {Canonical}: the pre-restore database is live again, the restored copy is parked as {Parked}; {Terminated} sessions ended")]
    private static partial void LogRolledBack(ILogger logger, string canonical, string parked, int terminated);
}
