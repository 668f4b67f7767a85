using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// Runbook steps 3–4 as one step: create <c>tenant_&lt;x&gt;_restore_&lt;stamp&gt;</c> (or <c>_asof_</c>) on the live
/// server and fill it from the PITR server with <see cref="TenantMover"/>. Marked "loading" when created and "loaded"
/// when the move finished, like <see cref="RestoreDatabaseLoader"/>, so a re-run reuses a finished move, resumes a partial
/// streaming one (keeping every piece it committed, <see cref="MoveLedger"/>) and redoes a partial dump-mode one. While it
/// runs, its progress is written for the status API every <see cref="DataMoverOptions.ProgressInterval"/>, and a move that
/// stops progressing for
/// <see cref="DataMoverOptions.StallTimeout"/> is stopped with a <see cref="TransferStalledException"/>.
/// </summary>
public sealed partial class TenantTransfer(
    PgConnector connector,
    TenantMover mover,
    TransferProgressStore progressStore,
    DataMoverOptions options,
    TimeProvider time,
    ILogger<TenantTransfer> logger)
{
    /// <summary>Moves the tenant database, or returns the move an earlier attempt of this run finished.</summary>
    public async Task<MoveTenantResult> MoveAsync(MoveTenantInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        var stamp = RestoreStamp.Parse(input.Stamp);
        var names = TenantDatabaseNames.For(TenantSlug.Parse(input.Tenant));
        var target = RestoreTargets.NameFor(names, stamp, runId, input.Target);

        var resume = false;
        await using (var maintenance = await connector.OpenMaintenanceAsync(input.Live, cancellationToken))
        {
            var catalog = new ServerCatalog(maintenance);
            // A streaming move this run started and did not finish is resumed: it keeps what it committed.
            resume = input.Mode == TransferMode.Streaming
                     && (await catalog.FindAsync(target, cancellationToken))?.Marker is { } partial && partial.Is(DatabaseMarker.Loading, runId) && partial.Stamp == stamp.Value;
            if (!resume && await RestoreTargets.PrepareAsync(
                    connector, catalog, names, target, runId, stamp, m => m.IsLoadedBy(runId), () => LogDroppingPartial(logger, target), cancellationToken))
            {
                LogReused(logger, target);
                var previous = await TryReadProgressAsync(runId, cancellationToken);
                // Applied again: it converges (no statement when nothing differs), and a copy an older version loaded gets it too.
                var ownership = await ApplyOwnershipAsync(input, names, target, cancellationToken);
                return new MoveTenantResult(
                    target, await catalog.SizeAsync(target, cancellationToken), Reused: true, input.Mode, previous?.TablesTotal ?? 0, previous?.BytesMoved ?? 0, 0, 0)
                { Ownership = ownership };
            }
        }

        if (resume)
        {
            LogResuming(logger, target);
        }

        LogStarting(logger, target, input.Mode);
        var meter = new MoveMeter(time);
        var request = new MoveRequest(runId, input.Source, names.OwnOrCanonical(input.SourceDatabase, "sourceDatabase"), input.Live, target, input.Mode, options.TransferJobs)
        {
            Resume = resume,
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watch = new Watch(new WatchServices(connector, progressStore, options, time, logger), input, request, meter, time.GetUtcNow());
        var watching = watch.RunAsync(stop);
        MoveResult result;
        try
        {
            try
            {
                result = await mover.MoveAsync(request, meter, stop.Token);
            }
            catch (MoveNotResumableException e) when (resume)
            {
                // Nothing of the earlier attempt can be kept safely: drop it and move everything again.
                LogNotResumable(logger, target, e.Message);
                await using (var maintenance = await connector.OpenMaintenanceAsync(input.Live, cancellationToken))
                {
                    await RestoreTargets.PrepareAsync(
                        connector, new ServerCatalog(maintenance), names, target, runId, stamp, _ => false, () => LogDroppingPartial(logger, target), cancellationToken);
                }

                result = await mover.MoveAsync(request with { Resume = false }, meter, stop.Token);
            }
        }
        catch (Exception e) when (watch.Stalled is { } stalled && !cancellationToken.IsCancellationRequested)
        {
            await watch.FinishAsync(watching, stop, error: stalled);
            throw new TransferStalledException(stalled, e);
        }
        catch (Exception e)
        {
            // The progress row is read by people and the status API: never row data, which server text can quote.
            await watch.FinishAsync(watching, stop, error: e is OperationCanceledException ? "cancelled" : FailureText.Redact(e.Message));
            throw;
        }

        await watch.FinishAsync(watching, stop, error: null);
        var applied = await ApplyOwnershipAsync(input, names, target, cancellationToken);
        await using (var maintenance = await connector.OpenMaintenanceAsync(input.Live, cancellationToken))
        {
            var catalog = new ServerCatalog(maintenance);
            await catalog.SetMarkerAsync(target, new DatabaseMarker(DatabaseMarker.Loaded, runId, stamp.Value), cancellationToken);
            var size = await catalog.SizeAsync(target, cancellationToken);
            LogMoved(logger, target, input.Mode, result.Tables, result.BytesMoved, result.Elapsed.TotalSeconds);
            if (!result.RelaxedCommit)
            {
                LogCommitNotRelaxed(logger, target);
            }

            if (result.PiecesKept > 0)
            {
                LogResumed(logger, target, result.PiecesKept, result.BytesKept, result.BytesMoved);
            }

            return new MoveTenantResult(target, size, Reused: false, input.Mode, result.Tables, result.BytesMoved, result.PeakScratchBytes, Math.Round(result.Elapsed.TotalSeconds, 3))
            { Ownership = applied, BytesKept = result.BytesKept, PiecesKept = result.PiecesKept };
        }
    }

    /// <summary>The copy was loaded without owners and privileges: it gets live's before it is marked loaded.</summary>
    private async Task<OwnershipSummary> ApplyOwnershipAsync(MoveTenantInput input, TenantDatabaseNames names, string target, CancellationToken cancellationToken)
    {
        var summary = await LiveOwnership.ApplyFromLiveAsync(
            connector, input.Live, [names.OwnOrCanonical(input.SourceDatabase, "sourceDatabase"), names.Canonical], target, cancellationToken);
        LogOwnership(logger, target, summary.Owners.Values.Sum(), summary.Privileges.Values.Sum(), summary.MissingInCopy, summary.OnlyInCopy);
        return summary;
    }

    private async Task<TransferProgress?> TryReadProgressAsync(string runId, CancellationToken cancellationToken)
    {
        try
        {
            return await progressStore.GetAsync(runId, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }

    private sealed record WatchServices(PgConnector Connector, TransferProgressStore ProgressStore, DataMoverOptions Options, TimeProvider Time, ILogger Logger);

    /// <summary>Samples one move: writes its progress and decides when it has stalled.</summary>
    private sealed class Watch(WatchServices owner, MoveTenantInput input, MoveRequest request, MoveMeter meter, DateTimeOffset startedAt)
    {
        private readonly DateTimeOffset _startedAt = startedAt;
        private ((string Phase, int TablesDone, int TablesTotal, long BytesMoved) Counters, long Source, long Target)? _last;
        private DateTimeOffset _progressedAt = startedAt;
        private bool _storeBroken;

        /// <summary>Why the move was stopped as stalled; null while it is not.</summary>
        public string? Stalled { get; private set; }

        public async Task RunAsync(CancellationTokenSource stop)
        {
            var options = owner.Options;
            // Opening the probes is inside the try: a move that fails at once cancels them while they open, and that
            // cancellation must not replace the move's own failure.
            try
            {
                await using var sourceProbe = await TransferActivityProbe.TryOpenAsync(owner.Connector, input.Source, request.SourceDatabase, stop.Token);
                await using var targetProbe = await TransferActivityProbe.TryOpenAsync(owner.Connector, input.Live, request.TargetDatabase, stop.Token);
                using var timer = new PeriodicTimer(options.ProgressInterval, owner.Time);
                do
                {
                    await SampleAsync(sourceProbe, targetProbe, stop.Token);
                    var quiet = owner.Time.GetUtcNow() - _progressedAt;
                    if (options.StallTimeout > TimeSpan.Zero && quiet >= options.StallTimeout)
                    {
                        var p = meter.Snapshot();
                        Stalled = string.Create(
                            CultureInfo.InvariantCulture,
                            $"the transfer into {request.TargetDatabase} made no progress for {quiet.TotalSeconds:0} s (phase {p.Phase}, {p.TablesDone}/{p.TablesTotal} tables, {p.BytesMoved} bytes): a session on {input.Source.Name} or {input.Live.Name} is blocked (see pg_stat_activity and pg_locks there) or a server stopped answering; it was stopped and the step will start over");
                        LogStalled(owner.Logger, request.TargetDatabase, quiet.TotalSeconds);
                        await WriteAsync(p, Stalled, CancellationToken.None);
                        await stop.CancelAsync();
                        return;
                    }
                }
                while (await timer.WaitForNextTickAsync(stop.Token));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The move ended (or was cancelled): FinishAsync writes the last word.
            }
        }

        public async Task FinishAsync(Task watching, CancellationTokenSource stop, string? error)
        {
            if (!stop.IsCancellationRequested)
            {
                await stop.CancelAsync();
            }

            await watching;
            var last = meter.Snapshot();
            await WriteAsync(error is null ? last : last with { Phase = "failed" }, Stalled ?? error, CancellationToken.None);
        }

        private async Task SampleAsync(TransferActivityProbe? sourceProbe, TransferActivityProbe? targetProbe, CancellationToken cancellationToken)
        {
            var progress = meter.Snapshot();
            var source = sourceProbe is null ? null : await sourceProbe.SampleAsync(cancellationToken);
            var target = targetProbe is null ? null : await targetProbe.SampleAsync(cancellationToken);
            // The counters only: the throughput and the estimate change with the clock alone, which is no progress.
            var sample = ((progress.Phase, progress.TablesDone, progress.TablesTotal, progress.BytesMoved), source?.Counter ?? 0, target?.Counter ?? 0);
            var working = (source?.Working ?? 0) + (target?.Working ?? 0) > 0;
            if (_last != sample || working)
            {
                _progressedAt = owner.Time.GetUtcNow();
            }

            _last = sample;
            await WriteAsync(progress, null, cancellationToken);
        }

        private async Task WriteAsync(MoveProgress progress, string? error, CancellationToken cancellationToken)
        {
            if (_storeBroken)
            {
                return;
            }

            try
            {
                var now = owner.Time.GetUtcNow();
                await owner.ProgressStore.WriteAsync(
                    new TransferProgress(input.RunId, input.Mode.ToString().ToLowerInvariant(), progress.Phase, progress.TablesDone, progress.TablesTotal, progress.BytesMoved, _startedAt, now, _progressedAt, error)
                    {
                        BytesTotal = progress.BytesTotal,
                        BytesPerSecond = progress.BytesPerSecond,
                        // A stopped transfer finishes at no estimated time.
                        EstimatedFinishAt = error is null ? progress.EstimatedFinishAt : null,
                    },
                    cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // Progress is for people watching; a master without the table (or unreachable) must not fail the restore.
                _storeBroken = true;
                LogProgressUnavailable(owner.Logger, e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Moving the tenant database into {Database} ({Mode})")]
    private static partial void LogStarting(ILogger logger, string database, TransferMode mode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved into {Database} ({Mode}): {Tables} tables, {Bytes} bytes in {Seconds:0.0} s")]
    private static partial void LogMoved(ILogger logger, string database, TransferMode mode, int tables, long bytes, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Gave {Database} live's owners and privileges: {Owners} owners set, {Privileges} grants/revokes; {Missing} live objects not in the copy, {OnlyInCopy} copy objects not in live")]
    private static partial void LogOwnership(ILogger logger, string database, int owners, int privileges, int missing, int onlyInCopy);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Database} was already filled by an earlier attempt of this run")]
    private static partial void LogReused(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resumed the move into {Database}: kept {Pieces} pieces ({BytesKept} bytes) an earlier attempt had committed, copied {BytesMoved} bytes")]
    private static partial void LogResumed(ILogger logger, string database, int pieces, long bytesKept, long bytesMoved);

    [LoggerMessage(Level = LogLevel.Information, Message = "The live server refused synchronous_commit = off for the sessions loading {Database}; they loaded with its own setting")]
    private static partial void LogCommitNotRelaxed(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming the move into {Database}: an earlier attempt of this run left it partly filled")]
    private static partial void LogResuming(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The move into {Database} cannot be resumed ({Reason}); starting it over")]
    private static partial void LogNotResumable(ILogger logger, string database, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropping {Database}: an earlier attempt left it partly filled")]
    private static partial void LogDroppingPartial(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Error, Message = "The transfer into {Database} made no progress for {Seconds:0} s; stopping it")]
    private static partial void LogStalled(ILogger logger, string database, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transfer progress cannot be recorded (the run goes on without it): {Reason}")]
    private static partial void LogProgressUnavailable(ILogger logger, string reason);
}
