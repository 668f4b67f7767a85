using Npgsql;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// <c>rcm_pitr.decision_attempts</c>: every decision attempt on a run's approval gate. The first accepted decision of a
/// run wins atomically (a unique index over the accepted rows), so two approvers racing, or an approve followed by a
/// reject, can never both reach the run; everyone after the first learns who decided, and every attempt stays on record.
/// </summary>
public sealed class DecisionLog(ControlPlaneDatabase master)
{
    private const string UniqueViolation = "23505";

    /// <summary>
    /// The time to stamp an attempt with: <paramref name="time"/>'s now at PostgreSQL's microsecond precision, so the row
    /// this log keeps and the decision the run receives carry the same instant.
    /// </summary>
    public static DateTimeOffset Now(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var now = time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % (TimeSpan.TicksPerMillisecond / 1000)));
    }

    /// <summary>The accepted decision of <paramref name="runId"/>, if any.</summary>
    public async Task<DecisionAttempt?> AcceptedAsync(string runId, CancellationToken cancellationToken) =>
        (await QueryAsync("WHERE run_id = $1 AND accepted", runId, cancellationToken)).SingleOrDefault();

    /// <summary>Every attempt on <paramref name="runId"/>, oldest first.</summary>
    public Task<IReadOnlyList<DecisionAttempt>> AttemptsAsync(string runId, CancellationToken cancellationToken) =>
        QueryAsync("WHERE run_id = $1", runId, cancellationToken);

    /// <summary>
    /// Records <paramref name="attempt"/>. An accepted one is recorded only if the run has no accepted decision yet: then it
    /// returns null; otherwise it records the attempt as refused and returns the decision that was first.
    /// </summary>
    public async Task<DecisionAttempt?> RecordAsync(DecisionAttempt attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        if (attempt.Accepted)
        {
            try
            {
                await InsertAsync(attempt, cancellationToken);
                return null;
            }
            catch (PostgresException e) when (e.SqlState == UniqueViolation)
            {
                var first = await AcceptedAsync(attempt.RunId, cancellationToken);
                await InsertAsync(attempt with { Accepted = false, Note = $"refused: already {Past(first?.Decision)} by {first?.PrincipalName}" }, cancellationToken);
                return first;
            }
        }

        await InsertAsync(attempt, cancellationToken);
        return null;
    }

    /// <summary>Turns the accepted decision of <paramref name="runId"/> into a refused one (it could not reach the run).</summary>
    public async Task WithdrawAsync(string runId, string note, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("UPDATE rcm_pitr.decision_attempts SET accepted = false, note = $2 WHERE run_id = $1 AND accepted", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = note });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>"approved" or "rejected".</summary>
    public static string Past(string? decision) => decision == "reject" ? "rejected" : "approved";

    private async Task InsertAsync(DecisionAttempt attempt, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "INSERT INTO rcm_pitr.decision_attempts (run_id, principal_id, principal_name, decision, accepted, note, attempted_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.RunId });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.PrincipalId });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.PrincipalName });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.Decision });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.Accepted });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)attempt.Note ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.AttemptedAt.UtcDateTime });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<DecisionAttempt>> QueryAsync(string where, string runId, CancellationToken cancellationToken)
    {
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"SELECT run_id, principal_id, principal_name, decision, accepted, note, attempted_at FROM rcm_pitr.decision_attempts {where} ORDER BY attempted_at, id",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<DecisionAttempt>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new DecisionAttempt(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(6), DateTimeKind.Utc))));
        }

        return list;
    }
}
