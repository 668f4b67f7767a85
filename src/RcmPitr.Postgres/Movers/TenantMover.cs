using System.Diagnostics;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// Moves one database from a source server into a database on a target server, in one of the <see cref="TransferMode"/>s,
/// each its own <see cref="IMoveMode"/>: <see cref="RunbookMove"/> runs the runbook's exact commands; <see cref="ParallelMove"/>
/// and <see cref="StreamingMove"/> keep its policy (no owners, no privileges; every schema object, sequence value,
/// extension and view). The target is empty, or — streaming, <see cref="MoveRequest.Resume"/> — holds an earlier attempt's work.
/// </summary>
public sealed class TenantMover(PgConnector connector, PgToolLocator tools, IProcessRunner processes, DataMoverOptions options, LoadingSessions? sessions = null)
{
    private readonly MoveTools _tools = new(connector, tools, processes, sessions ?? new LoadingSessions());

    /// <summary>
    /// Sets back the CPU priority a process of this session left lowered when it ended during a GIN build (see
    /// <see cref="DataMoverOptions.YieldCpuBesideGin"/>); <paramref name="note"/> says when it did. For a host starting up.
    /// </summary>
    public static void RecoverCpuYield(Action<string>? note) => CpuYield.Process.RecoverLeftover(note);

    /// <summary>Runs the move; <paramref name="meter"/>, when given, is kept current for whoever watches it.</summary>
    public async Task<MoveResult> MoveAsync(MoveRequest request, MoveMeter? meter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        PgIdentifierRules.RequireDatabaseName(request.SourceDatabase, "sourceDatabase");
        PgIdentifierRules.RequireDatabaseName(request.TargetDatabase, "targetDatabase");
        options.Validate();
        meter ??= new MoveMeter();
        IMoveMode mode = request.Mode switch
        {
            TransferMode.Runbook => new RunbookMove(_tools, options),
            TransferMode.Parallel => new ParallelMove(_tools, options),
            TransferMode.Streaming => new StreamingMove(_tools, options),
            _ => throw new InvalidRestoreInputException("transfer", $"unknown transfer mode {request.Mode}"),
        };
        var scratch = Path.Combine(options.RunDirectory(RunIds.Require(request.RunId)), "move-" + request.Mode.ToString().ToLowerInvariant());
        ScratchFiles.EnsurePrivateDirectory(options, scratch);
        if (Directory.EnumerateFileSystemEntries(scratch).Any())
        {
            // Left by an attempt that was killed: its files are of no use to this one.
            Directory.Delete(scratch, recursive: true);
            ScratchFiles.EnsurePrivateDirectory(options, scratch);
        }

        var clock = Stopwatch.StartNew();
        try
        {
            LoadingSession session;
            await using (var target = await _tools.OpenTargetAsync(request, cancellationToken))
            {
                session = await _tools.Sessions.NegotiateAsync(target, cancellationToken);
            }

            if (session.Refusal is { } refusal)
            {
                meter.Note("the target refused synchronous_commit = off for its loading sessions; loading with its own setting (" + refusal + ")");
            }

            var outcome = await mode.MoveAsync(new MoveContext(request, scratch, meter, session), cancellationToken);
            meter.Enter(MovePhases.Done);
            return new MoveResult(request.Mode, clock.Elapsed, outcome.PeakScratchBytes, outcome.Bytes, outcome.Tables)
            {
                BytesKept = outcome.BytesKept, PiecesKept = outcome.PiecesKept, RelaxedCommit = session.RelaxedCommit,
            };
        }
        catch (PostgresException e)
        {
            // The server's text can quote the row it rejected; only its redacted form leaves the mover.
            throw RedactedPostgresException.From(e, $"moving {request.SourceDatabase} into {request.TargetDatabase}");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>Parallel jobs of a move: the request's, or this machine's cores.</summary>
    internal static int Jobs(MoveRequest request) => request.Jobs > 0 ? request.Jobs : Environment.ProcessorCount;
}
