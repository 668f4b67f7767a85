using Npgsql;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// <c>rcm_pitr.notification_outbox</c> in the master database: a run's messages wait here until a dispatcher delivers
/// them. Writing is idempotent by (run, event, target); delivery is at least once — a row stays pending until a send
/// succeeds, is retried with exponential backoff, and is marked dead with the reason after a bounded number of attempts.
/// </summary>
public sealed class NotificationOutbox(ControlPlaneDatabase master, TimeProvider time)
{
    /// <summary>
    /// Records the message once per target (a redelivered step finds its rows). <paramref name="tenant"/> is the tenant's
    /// slug, or its id, which is shown as the slug the master knows it by. Returns how many rows were new.
    /// </summary>
    public async Task<int> EnqueueAsync(
        string runId, string notificationEvent, string tenant, string subject, string body, IReadOnlyList<string> targets, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(notificationEvent);
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0)
        {
            return 0;
        }

        await EnsureTableAsync(cancellationToken);
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO rcm_pitr.notification_outbox (run_id, event, target, tenant, subject, body, created_at, next_attempt_at)
            SELECT $1, $2, t, coalesce((SELECT slug FROM identity.tenant WHERE id::text = $3), $3), $4, $5, $6, $6
            FROM unnest($7::text[]) AS t
            ON CONFLICT (run_id, event, target) DO NOTHING
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = notificationEvent });
        command.Parameters.Add(new NpgsqlParameter { Value = tenant });
        command.Parameters.Add(new NpgsqlParameter { Value = subject });
        command.Parameters.Add(new NpgsqlParameter { Value = body });
        command.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
        command.Parameters.Add(new NpgsqlParameter { Value = targets.ToArray() });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Claims one due message (skipping any another dispatcher holds), sends it with <paramref name="send"/> — null means
    /// delivered, otherwise the failure's reason — and records the outcome, all in one transaction: the row stays locked
    /// while it is being sent, and a dispatcher that dies meanwhile leaves it pending. False when nothing was due.
    /// </summary>
    public async Task<bool> DispatchOneAsync(Func<OutboxMessage, CancellationToken, Task<string?>> send, OutboxRetryPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(policy);
        await EnsureTableAsync(cancellationToken);
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        OutboxMessage message;
        await using (var claim = new NpgsqlCommand(
            """
            SELECT run_id, event, target, tenant, subject, body, attempts, created_at FROM rcm_pitr.notification_outbox
            WHERE state = 'pending' AND next_attempt_at <= $1
            ORDER BY next_attempt_at, created_at
            LIMIT 1
            FOR UPDATE SKIP LOCKED
            """,
            connection,
            transaction))
        {
            claim.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return false;
            }

            message = new OutboxMessage(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7));
        }

        var error = await send(message, cancellationToken);
        var attempts = message.Attempts + 1;
        var now = time.GetUtcNow();
        await using (var record = new NpgsqlCommand(
            """
            UPDATE rcm_pitr.notification_outbox
            SET attempts = $4, last_error = coalesce($5, last_error), state = $6, sent_at = $7, next_attempt_at = $8
            WHERE run_id = $1 AND event = $2 AND target = $3
            """,
            connection,
            transaction))
        {
            var state = error is null ? "sent" : attempts >= policy.MaxAttempts ? "dead" : "pending";
            record.Parameters.Add(new NpgsqlParameter { Value = message.RunId });
            record.Parameters.Add(new NpgsqlParameter { Value = message.Event });
            record.Parameters.Add(new NpgsqlParameter { Value = message.Target });
            record.Parameters.Add(new NpgsqlParameter { Value = attempts });
            record.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value });
            record.Parameters.Add(new NpgsqlParameter { Value = state });
            record.Parameters.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = error is null ? now : null });
            record.Parameters.Add(new NpgsqlParameter { Value = state == "pending" ? now + policy.DelayAfter(attempts) : now });
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        // A master that missed the hosts' start-up gets the table here, or a message naming the script to apply.
        await master.EnsureOwnTablesAsync(["rcm_pitr.notification_outbox"], "V007__notification_outbox.sql", cancellationToken);
    }
}
