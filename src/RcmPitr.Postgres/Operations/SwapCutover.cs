using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Runbook step 6, swap-and-keep, and its rollback. The live database is closed to new sessions first, then its
/// sessions are ended and both renames run in one transaction together with the markers that say which run kept or
/// parked what, so the tenant's live name exists before and after, whatever happens to this process. A re-run looks at
/// which names exist and at the markers, and either finishes, reports done, or refuses with the exact state found and
/// what an operator should do — it never guesses.
/// </summary>
public sealed partial class SwapCutover(PgConnector connector, ILogger<SwapCutover> logger)
{
    /// <summary>
    /// <c>live → _pre_pitr_&lt;stamp&gt;_&lt;tag&gt;</c> (marked kept by this run) and <c>_restore_… → live</c>. The restore
    /// database must carry this run's "loaded" marker; the live database must exist.
    /// </summary>
    public async Task<SwapCutoverResult> CutOverAsync(SwapCutoverInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var stamp = RestoreStamp.Parse(input.Stamp);
        var names = TenantDatabaseNames.For(TenantSlug.Parse(input.Tenant));
        string live = LiveName(names, input.LiveDatabase), restore = names.Restore(stamp, runId), kept = names.PrePitr(stamp, runId);

        await using var maintenance = await connector.OpenMaintenanceAsync(input.Live, cancellationToken);
        var catalog = new ServerCatalog(maintenance);
        var liveEntry = await catalog.FindAsync(live, cancellationToken);
        var restoreEntry = await catalog.FindAsync(restore, cancellationToken);
        var keptEntry = await catalog.FindAsync(kept, cancellationToken);
        var state = $"{Describe(live, liveEntry)}, {Describe(restore, restoreEntry)}, {Describe(kept, keptEntry)}";

        if (liveEntry?.Marker?.IsLoadedBy(runId) == true && restoreEntry is null && keptEntry?.Marker?.Is(DatabaseMarker.Kept, runId) == true)
        {
            return new SwapCutoverResult(live, kept, 0, AlreadyDone: true);
        }

        if (restoreEntry?.Marker?.IsLoadedBy(runId) != true)
        {
            throw new DatabaseStateConflictException(
                $"Cannot cut over: {restore} {(restoreEntry is null ? "does not exist" : "is not a finished load of run " + runId)}. State found: {state}. Nothing was changed.");
        }

        if (liveEntry is null)
        {
            // A live database that vanished during a restore is an incident of its own; renaming the copy into its place
            // would hide it.
            throw new DatabaseStateConflictException(
                $"Cannot cut over: the live database {live} does not exist. State found: {state}. Find out what removed it before " +
                $"making {restore} live by hand. Nothing was changed.");
        }

        if (keptEntry is not null)
        {
            throw new DatabaseStateConflictException(
                $"Cannot cut over: {kept} already exists ({keptEntry.Marker?.Format() ?? "no RcmPitr marker"}), although this run has not swapped yet. " +
                $"Check what it is; {live} is untouched and still live.");
        }

        var terminated = await SwapAsync(
            catalog,
            input.Live,
            new DatabaseSwap(
                CloseFirst: live,
                Renames: [(live, kept), (restore, live)],
                OpenAfter: [kept, live],
                Markers: [(kept, new DatabaseMarker(DatabaseMarker.Kept, runId, stamp.Value))]),
            cancellationToken);
        LogSwapped(logger, live, kept, terminated);
        return new SwapCutoverResult(live, kept, terminated, AlreadyDone: false);
    }

    /// <summary>
    /// The runbook's rollback: <c>live → _rollback_…</c> (marked parked by the run) and <c>_pre_pitr_… → live</c>,
    /// allowed while the kept database is the run's and the live one is still the run's restored copy.
    /// </summary>
    public async Task<RollbackSwapResult> RollBackAsync(RollbackSwapInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var stamp = RestoreStamp.Parse(input.Stamp);
        var names = TenantDatabaseNames.For(TenantSlug.Parse(input.Tenant));
        string live = LiveName(names, input.LiveDatabase), kept = names.PrePitr(stamp, runId), parked = names.Rollback(stamp, runId);

        await using var maintenance = await connector.OpenMaintenanceAsync(input.Live, cancellationToken);
        var catalog = new ServerCatalog(maintenance);
        var liveEntry = await catalog.FindAsync(live, cancellationToken);
        var keptEntry = await catalog.FindAsync(kept, cancellationToken);
        var parkedEntry = await catalog.FindAsync(parked, cancellationToken);
        var state = $"{Describe(live, liveEntry)}, {Describe(kept, keptEntry)}, {Describe(parked, parkedEntry)}";

        if (parkedEntry?.Marker?.Is(DatabaseMarker.Parked, runId) == true && keptEntry is null && liveEntry is not null)
        {
            return new RollbackSwapResult(live, parked, 0, AlreadyDone: true);
        }

        if (keptEntry?.Marker?.Is(DatabaseMarker.Kept, runId) != true)
        {
            throw new DatabaseStateConflictException(
                $"Cannot roll back: {kept} {(keptEntry is null ? "no longer exists (dropped after the retention period?)" : "is not the database run " + runId + " kept")}. " +
                $"State found: {state}. Nothing was changed.");
        }

        if (liveEntry?.Marker?.IsLoadedBy(runId) != true)
        {
            throw new DatabaseStateConflictException(
                $"Cannot roll back: {live} {(liveEntry is null ? "does not exist" : "is not the database run " + runId + " restored; it was replaced since")}. " +
                $"State found: {state}. Nothing was changed.");
        }

        if (parkedEntry is not null)
        {
            throw new DatabaseStateConflictException(
                $"Cannot roll back: {parked} already exists. Check whether it is still needed, rename or drop it, then retry. State found: {state}. Nothing was changed.");
        }

        var terminated = await SwapAsync(
            catalog,
            input.Live,
            new DatabaseSwap(
                CloseFirst: live,
                Renames: [(live, parked), (kept, live)],
                OpenAfter: [parked, live],
                Markers: [(parked, new DatabaseMarker(DatabaseMarker.Parked, runId, stamp.Value)), (live, null)]),
            cancellationToken);
        LogRolledBack(logger, live, parked, terminated);
        return new RollbackSwapResult(live, parked, terminated, AlreadyDone: false);
    }

    /// <summary>Runs the swap; when it fails nothing was renamed, so the live database is opened to sessions again first.</summary>
    private async Task<int> SwapAsync(ServerCatalog catalog, DbServerInfo server, DatabaseSwap swap, CancellationToken cancellationToken)
    {
        try
        {
            return await catalog.SwapAsync(swap, cancellationToken);
        }
        catch (Exception failure) when (failure is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var fresh = await connector.OpenMaintenanceAsync(server, CancellationToken.None);
                await new ServerCatalog(fresh).SetAllowConnectionsAsync(swap.CloseFirst, allow: true, CancellationToken.None);
            }
            catch (Exception reopen) when (reopen is NpgsqlException or TimeoutException)
            {
                LogReopenFailed(logger, swap.CloseFirst, reopen);
            }

            throw;
        }
    }

    /// <summary>The live name to swap under: the canonical one, or the tenant's own derived name a flip made live.</summary>
    internal static string LiveName(TenantDatabaseNames names, string? liveDatabase) => names.OwnOrCanonical(liveDatabase, "liveDatabase");

    private static string Describe(string name, DatabaseEntry? entry) =>
        entry is null ? $"{name} absent"
        : $"{name} present ({entry.Marker?.Format() ?? "no RcmPitr marker"}{(entry.AllowConnections ? string.Empty : ", closed to new connections")})";

    [LoggerMessage(Level = LogLevel.Information, Message = "Swapped {Live}: the restored copy is live, the previous database is kept as {Kept}; {Terminated} sessions ended")]
    private static partial void LogSwapped(ILogger logger, string live, string kept, int terminated);

    [LoggerMessage(Level = LogLevel.Error, Message = "The swap failed and {Live} could not be opened to sessions again; run ALTER DATABASE … WITH ALLOW_CONNECTIONS true on it")]
    private static partial void LogReopenFailed(ILogger logger, string live, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rolled back {Live}: the pre-restore database is live again, the restored copy is parked as {Parked}; {Terminated} sessions ended")]
    private static partial void LogRolledBack(ILogger logger, string live, string parked, int terminated);
}
