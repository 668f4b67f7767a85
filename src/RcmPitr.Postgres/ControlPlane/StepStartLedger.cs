using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RcmPitr.Postgres.Operations;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// Bounds how often a long step of one run is started again after being aborted. A host can abort an activity so that
/// it never ends — Azure Functions does so at <c>functionTimeout</c>, and Durable then starts it again, with no limit of
/// its own — so a move that always outlives the timeout would run forever. Every start and every end (success or
/// failure) is counted per (run, step) in the master's <c>rcm_pitr.activity_starts</c>; a start that finds
/// <see cref="DataMoverOptions.MaxAbortedStarts"/> earlier starts that never ended is refused
/// (<see cref="StepRestartedTooOftenException"/>, never retried) instead of run. A cancelled attempt counts as aborted.
/// </summary>
public sealed partial class StepStartLedger(ControlPlaneDatabase master, DataMoverOptions options, TimeProvider time, ILogger<StepStartLedger>? logger = null)
{
    /// <summary>Runs <paramref name="work"/> as one start of <paramref name="step"/> of <paramref name="runId"/>, unless too many earlier starts were aborted.</summary>
    public async Task<T> RunAsync<T>(string runId, string step, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var run = RunIds.Require(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(step);
        await BeginAsync(run, step, cancellationToken);
        T result;
        try
        {
            result = await work(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // aborted: it did not end
        }
        catch
        {
            await TryEndAsync(run, step);
            throw; // the step's own failure, never one of the ledger's
        }

        await TryEndAsync(run, step);
        return result;
    }

    /// <summary>
    /// Counts the end; a master that cannot be reached then must not turn the step's result (hours of work) or its refusal into
    /// a transient failure. The cost of a lost end is one start counted as aborted.
    /// </summary>
    private async Task TryEndAsync(string runId, string step)
    {
        try
        {
            await EndAsync(runId, step, CancellationToken.None);
        }
        catch (NpgsqlException e)
        {
            LogEndNotCounted(logger ?? (ILogger)NullLogger.Instance, runId, step, e.SqlState ?? e.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The end of step {Step} of run {RunId} could not be counted in rcm_pitr.activity_starts ({Reason}); a later start of it counts this one as aborted")]
    private static partial void LogEndNotCounted(ILogger logger, string runId, string step, string reason);

    private async Task BeginAsync(string runId, string step, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken);
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO rcm_pitr.activity_starts AS a (run_id, step, starts, ends, first_start_at, last_start_at)
            VALUES ($1, $2, 1, 0, $3, $3)
            ON CONFLICT (run_id, step) DO UPDATE SET starts = a.starts + 1, last_start_at = EXCLUDED.last_start_at
            RETURNING a.starts, a.ends
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = step });
        command.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var aborted = reader.GetInt32(0) - 1 - reader.GetInt32(1);
        var limit = Math.Max(1, options.MaxAbortedStarts);
        if (aborted >= limit)
        {
            throw new StepRestartedTooOftenException(runId, step, aborted, limit);
        }
    }

    private async Task EndAsync(string runId, string step, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "UPDATE rcm_pitr.activity_starts SET ends = ends + 1, last_end_at = $3 WHERE run_id = $1 AND step = $2", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = step });
        command.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // The host's start-up creates RcmPitr's own tables; a master that missed it (started before this table existed, or no
    // privilege then) gets them on first use, or a message naming the script.
    private async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await master.EnsureOwnTablesAsync(["rcm_pitr.activity_starts"], "V006__activity_starts.sql", cancellationToken);
    }
}
