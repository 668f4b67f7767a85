using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RcmPitr.Engine.History;
using RcmPitr.Engine.Hosting;
using RcmPitr.Engine.Replay;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.Storage;

/// <summary>
/// The engine's state in PostgreSQL. Exclusivity comes from row locks: an episode holds
/// <c>FOR UPDATE SKIP LOCKED</c> on its instance for the length of one transaction, and an activity is
/// claimed by a lease written under the same kind of lock, so two engine processes on one database never
/// run the same work at the same time. Every time the engine stores or compares (leases, message visibility,
/// an episode's "now", instance timestamps) comes from the database's clock, so hosts whose clocks disagree
/// still agree on who holds what and on what is due.
/// </summary>
public sealed class EngineStore(NpgsqlDataSource dataSource)
{
    /// <summary>The NOTIFY channel that wakes workers when work arrives.</summary>
    public const string WakeChannel = "rcm_engine_work";

    private const string UniqueViolation = "23505";

    /// <summary>The data source (for the listener connection).</summary>
    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>Creates or upgrades the engine's tables.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await SchemaMigrator.MigrateAsync(connection, EmbeddedSchema.Engine, cancellationToken);
    }

    /// <summary>Creates an instance and queues its start. Throws <see cref="InstanceAlreadyExistsException"/> or <see cref="LockKeyConflictException"/>.</summary>
    public async Task CreateInstanceAsync(string name, string instanceId, object? input, string? lockKey, CancellationToken cancellationToken)
    {
        var inputJson = EngineJson.ToElement(input);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var now = await DatabaseNowAsync(connection, transaction, cancellationToken);
        try
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO rcm_engine.instances (instance_id, name, status, input, lock_key, created_at, updated_at) VALUES ($1, $2, 'Pending', $3, $4, $5, $5)",
                cancellationToken, instanceId, name, Json(inputJson), (object?)lockKey ?? DBNull.Value, now);
        }
        catch (PostgresException e) when (e.SqlState == UniqueViolation)
        {
            await transaction.RollbackAsync(cancellationToken);
            if (e.ConstraintName == "instances_pkey")
            {
                throw new InstanceAlreadyExistsException(instanceId);
            }

            var holder = await ScalarAsync<string>(connection, null,
                "SELECT instance_id FROM rcm_engine.instances WHERE lock_key = $1 AND status IN ('Pending', 'Running')", cancellationToken, lockKey!);
            throw new LockKeyConflictException(lockKey!, holder ?? "(finished meanwhile; retry)");
        }

        await InsertMessageAsync(connection, transaction, instanceId, new HistoryEvent(HistoryEventKinds.ExecutionStarted, now, Name: name, Payload: inputJson), now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Queues an external event for a running instance.</summary>
    public async Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var now = await DatabaseNowAsync(connection, transaction, cancellationToken);
        var status = await ScalarAsync<string>(connection, transaction, "SELECT status FROM rcm_engine.instances WHERE instance_id = $1 FOR SHARE", cancellationToken, instanceId)
                     ?? throw new InstanceNotFoundException(instanceId);
        if (status is not ("Pending" or "Running"))
        {
            throw new InvalidOperationException($"Instance '{instanceId}' is {status}; it takes no more events.");
        }

        await InsertMessageAsync(connection, transaction, instanceId, new HistoryEvent(HistoryEventKinds.EventRaised, now, Name: eventName, Payload: EngineJson.ToElement(payload)), now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Ends an active instance without running more of its code.</summary>
    public async Task<bool> TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var now = await DatabaseNowAsync(connection, transaction, cancellationToken);
        var status = await ScalarAsync<string>(connection, transaction, "SELECT status FROM rcm_engine.instances WHERE instance_id = $1 FOR UPDATE", cancellationToken, instanceId)
                     ?? throw new InstanceNotFoundException(instanceId);
        if (status is not ("Pending" or "Running"))
        {
            return false;
        }

        var seq = await ScalarAsync<int>(connection, transaction, "SELECT coalesce(max(seq), -1) + 1 FROM rcm_engine.history WHERE instance_id = $1", cancellationToken, instanceId);
        await InsertHistoryAsync(connection, transaction, instanceId, seq, [new HistoryEvent(HistoryEventKinds.ExecutionTerminated, now, Payload: EngineJson.ToElement(reason))], cancellationToken);
        await FinishAsync(connection, transaction, instanceId, "Terminated", EngineJson.ToElement(reason), null, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Runs one episode of one instance that has due messages, if any. Returns false when there was nothing to do.
    /// The instance row stays locked for the whole episode; the episode's "now" is the database's.
    /// </summary>
    internal async Task<bool> TryRunEpisodeAsync(EpisodeExecutor executor, DurableRegistry registry, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var now = await DatabaseNowAsync(connection, transaction, cancellationToken);
        string instanceId, name;
        JsonElement? customStatus;
        // Only orchestrators this process registers are picked: an instance of another name waits, untouched,
        // for the process version that registers it.
        await using (var pick = Command(connection, transaction,
            """
            SELECT i.instance_id, i.name, i.custom_status FROM rcm_engine.instances i
            WHERE i.status IN ('Pending', 'Running')
              AND lower(i.name) = ANY($2)
              AND EXISTS (SELECT 1 FROM rcm_engine.messages m WHERE m.instance_id = i.instance_id AND m.visible_at <= $1)
            ORDER BY i.updated_at
            LIMIT 1
            FOR UPDATE OF i SKIP LOCKED
            """, now, RegisteredNames(registry)))
        await using (var reader = await pick.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return false;
            }

            (instanceId, name, customStatus) = (reader.GetString(0), reader.GetString(1), JsonOrNull(reader, 2));
        }

        var history = await ReadEventsAsync(connection, transaction, "SELECT seq, event FROM rcm_engine.history WHERE instance_id = $1 ORDER BY seq", cancellationToken, instanceId);
        var messages = await ReadEventsAsync(connection, transaction,
            "SELECT id, event FROM rcm_engine.messages WHERE instance_id = $1 AND visible_at <= $2 ORDER BY visible_at, id", cancellationToken, instanceId, now);

        var result = executor.Run(registry.Orchestrator(name), instanceId, history.Select(h => h.Event).ToList(), messages.Select(m => m.Event).ToList(), now, customStatus);
        var nextSeq = history.Count == 0 ? 0 : (int)history[^1].Key + 1;
        await InsertHistoryAsync(connection, transaction, instanceId, nextSeq, result.NewEvents, cancellationToken);
        await ExecuteAsync(connection, transaction, "DELETE FROM rcm_engine.messages WHERE id = ANY($1)", cancellationToken, messages.Select(m => m.Key).ToArray());
        foreach (var activity in result.NewActivities)
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO rcm_engine.activities (instance_id, task_id, name, input) VALUES ($1, $2, $3, $4) ON CONFLICT (instance_id, task_id) DO NOTHING",
                cancellationToken, instanceId, activity.TaskId!.Value, activity.Name!, Json(activity.Payload));
        }

        foreach (var timer in result.NewTimers)
        {
            await InsertMessageAsync(connection, transaction, instanceId,
                new HistoryEvent(HistoryEventKinds.TimerFired, timer.FireAt!.Value, TaskId: timer.TaskId, FireAt: timer.FireAt), timer.FireAt!.Value, cancellationToken);
        }

        if (result.Status == "Running")
        {
            await ExecuteAsync(connection, transaction,
                "UPDATE rcm_engine.instances SET status = 'Running', updated_at = $2, custom_status = CASE WHEN $3 THEN $4 ELSE custom_status END WHERE instance_id = $1",
                cancellationToken, instanceId, now, result.CustomStatusChanged, Json(result.CustomStatus));
        }
        else
        {
            await FinishAsync(connection, transaction, instanceId, result.Status, result.Output, result.Failure, now, cancellationToken,
                result.CustomStatusChanged ? result.CustomStatus : null, result.CustomStatusChanged);
        }

        if (result.NewActivities.Count > 0)
        {
            await ExecuteAsync(connection, transaction, $"NOTIFY {WakeChannel}", cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Claims, for the activity loop <paramref name="workerId"/>, the oldest activity that no live lease holds and
    /// whose instance is active and run by an orchestrator this process registers. The claim writes a fresh
    /// lease id (the fencing token renewals and the completion must present) and a lease of
    /// <paramref name="lease"/> on the database's clock.
    /// </summary>
    public async Task<ActivityWorkItem?> TryClaimActivityAsync(string workerId, IReadOnlyCollection<string> orchestrators, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orchestrators);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null,
            """
            UPDATE rcm_engine.activities a
            SET locked_by = $1, lease_id = gen_random_uuid(), claimed_at = clock_timestamp(),
                locked_until = clock_timestamp() + $2, deliveries = a.deliveries + 1
            WHERE a.id = (
              SELECT c.id FROM rcm_engine.activities c
              JOIN rcm_engine.instances i ON i.instance_id = c.instance_id
              WHERE (c.locked_until IS NULL OR c.locked_until < clock_timestamp())
                AND i.status IN ('Pending', 'Running')
                AND lower(i.name) = ANY($3)
              ORDER BY c.id LIMIT 1
              FOR UPDATE OF c SKIP LOCKED)
            RETURNING a.id, a.instance_id, a.task_id, a.name, a.input, a.deliveries, a.lease_id
            """, workerId, lease, orchestrators.Select(n => n.ToLowerInvariant()).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ActivityWorkItem(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : JsonDocument.Parse(reader.GetString(4)).RootElement.Clone(), reader.GetInt32(5), reader.GetGuid(6))
            : null;
    }

    /// <summary>
    /// Extends the lease of <paramref name="leaseId"/> to <paramref name="lease"/> from now (database clock). False when
    /// that lease is gone: another claim replaced it, it lapsed, or the item was completed.
    /// </summary>
    public async Task<bool> RenewLeaseAsync(long id, Guid leaseId, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ExecuteAsync(connection, null,
            "UPDATE rcm_engine.activities SET locked_until = clock_timestamp() + $3 WHERE id = $1 AND lease_id = $2 AND locked_until >= clock_timestamp()",
            cancellationToken, id, leaseId, lease) == 1;
    }

    /// <summary>
    /// Records an activity's outcome (stamped with the database's time and the delivery count) for its instance, if <paramref name="item"/>'s
    /// claim still holds a live lease. False when it does not (the result is then not recorded: the item belongs to
    /// another claim, or will).
    /// </summary>
    public async Task<bool> CompleteActivityAsync(ActivityWorkItem item, HistoryEvent outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(outcome);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await ExecuteAsync(connection, transaction,
                "DELETE FROM rcm_engine.activities WHERE id = $1 AND lease_id = $2 AND locked_until >= clock_timestamp()",
                cancellationToken, item.Id, item.LeaseId) != 1)
        {
            return false;
        }

        // A result for an instance that already ended (terminated meanwhile) has no one to wake. The share lock
        // keeps a concurrent terminate from ending it between this look and the message.
        var status = await ScalarAsync<string>(connection, transaction,
            "SELECT status FROM rcm_engine.instances WHERE instance_id = $1 FOR SHARE", cancellationToken, item.InstanceId);
        if (status is "Pending" or "Running")
        {
            var now = await DatabaseNowAsync(connection, transaction, cancellationToken);
            await InsertMessageAsync(connection, transaction, item.InstanceId, outcome with { Timestamp = now, Deliveries = item.Deliveries }, now, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>How long until the next message becomes visible (negative when one is due), for workers to sleep; null when none waits.</summary>
    public async Task<TimeSpan?> NextMessageDelayAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ScalarAsync<TimeSpan?>(connection, null,
            "SELECT min(m.visible_at) - clock_timestamp() FROM rcm_engine.messages m JOIN rcm_engine.instances i USING (instance_id) WHERE i.status IN ('Pending', 'Running')",
            cancellationToken);
    }

    /// <summary>One instance, or null.</summary>
    public async Task<InstanceMetadata?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        (await QueryInstancesAsync("WHERE instance_id = $1", cancellationToken, instanceId)).SingleOrDefault();

    /// <summary>Instances, newest first, optionally filtered by name, lock key and status.</summary>
    public Task<IReadOnlyList<InstanceMetadata>> ListInstancesAsync(string? name, string? lockKey, string? status, int limit, CancellationToken cancellationToken) =>
        QueryInstancesAsync(
            "WHERE ($1::text IS NULL OR name = $1) AND ($2::text IS NULL OR lock_key = $2) AND ($3::text IS NULL OR status = $3) ORDER BY created_at DESC LIMIT $4",
            cancellationToken, (object?)name ?? DBNull.Value, (object?)lockKey ?? DBNull.Value, (object?)status ?? DBNull.Value, limit);

    /// <summary>An instance's history, in order.</summary>
    public async Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await ReadEventsAsync(connection, null, "SELECT seq, event FROM rcm_engine.history WHERE instance_id = $1 ORDER BY seq", cancellationToken, instanceId))
            .Select(e => e.Event).ToList();
    }

    /// <summary>
    /// Every activity call of an instance, in task order, with how often it was delivered and where it stands:
    /// read from one snapshot of the history, the inbox (results not yet applied) and the leased work items.
    /// </summary>
    public async Task<IReadOnlyList<ActivityDeliveryStatus>> GetActivitiesAsync(string instanceId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var status = await ScalarAsync<string>(connection, transaction, "SELECT status FROM rcm_engine.instances WHERE instance_id = $1", cancellationToken, instanceId)
                     ?? throw new InstanceNotFoundException(instanceId);
        var history = await ReadEventsAsync(connection, transaction, "SELECT seq, event FROM rcm_engine.history WHERE instance_id = $1 ORDER BY seq", cancellationToken, instanceId);
        var inbox = await ReadEventsAsync(connection, transaction, "SELECT id, event FROM rcm_engine.messages WHERE instance_id = $1 ORDER BY id", cancellationToken, instanceId);
        var items = new Dictionary<int, (int Deliveries, string? LockedBy, DateTime? ClaimedAt, DateTime? LockedUntil, bool Live)>();
        await using (var command = Command(connection, transaction,
            "SELECT task_id, deliveries, locked_by, claimed_at, locked_until, coalesce(locked_until >= clock_timestamp(), false) FROM rcm_engine.activities WHERE instance_id = $1",
            instanceId))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items[reader.GetInt32(0)] = (reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    UtcOrNull(reader, 3), UtcOrNull(reader, 4), reader.GetBoolean(5));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        var outcomes = history.Concat(inbox).Select(e => e.Event)
            .Where(e => e.Kind is HistoryEventKinds.TaskCompleted or HistoryEventKinds.TaskFailed)
            .GroupBy(e => e.TaskId!.Value)
            .ToDictionary(g => g.Key, g => g.First());
        var active = status is "Pending" or "Running";
        return history.Select(h => h.Event)
            .Where(e => e.Kind == HistoryEventKinds.TaskScheduled)
            .Select(scheduled => Describe(scheduled, outcomes.GetValueOrDefault(scheduled.TaskId!.Value), items.TryGetValue(scheduled.TaskId!.Value, out var item) ? item : null, active))
            .ToList();
    }

    private static ActivityDeliveryStatus Describe(
        HistoryEvent scheduled, HistoryEvent? outcome, (int Deliveries, string? LockedBy, DateTime? ClaimedAt, DateTime? LockedUntil, bool Live)? item, bool instanceActive)
    {
        var call = new ActivityDeliveryStatus(scheduled.TaskId!.Value, scheduled.Name!, ActivityDeliveryState.Scheduled, 0, scheduled.Timestamp);
        if (outcome is not null)
        {
            // Outcomes recorded before delivery counts were kept came from at least one delivery.
            return call with
            {
                State = outcome.Kind == HistoryEventKinds.TaskCompleted ? ActivityDeliveryState.Completed : ActivityDeliveryState.Failed,
                Deliveries = outcome.Deliveries ?? 1,
                FinishedAt = outcome.Timestamp,
            };
        }

        if (item is not { } row)
        {
            return call with { State = ActivityDeliveryState.Abandoned };
        }

        var state = row switch
        {
            { Live: true } => ActivityDeliveryState.Running,
            _ when !instanceActive => ActivityDeliveryState.Abandoned,
            { Deliveries: 0 } => ActivityDeliveryState.Scheduled,
            _ => ActivityDeliveryState.Interrupted,
        };
        return call with { State = state, Deliveries = row.Deliveries, ClaimedAt = row.ClaimedAt, LeasedBy = row.LockedBy, LeaseExpiresAt = row.LockedUntil };
    }

    private static DateTime? UtcOrNull(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);

    private async Task<IReadOnlyList<InstanceMetadata>> QueryInstancesAsync(string where, CancellationToken cancellationToken, params object[] args)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null,
            $"SELECT instance_id, name, status, created_at, updated_at, input, output, custom_status, failure, lock_key FROM rcm_engine.instances {where}", args);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<InstanceMetadata>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new InstanceMetadata(
                reader.GetString(0), reader.GetString(1), reader.GetString(2),
                DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc), DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc),
                JsonOrNull(reader, 5), JsonOrNull(reader, 6), JsonOrNull(reader, 7),
                reader.IsDBNull(8) ? null : JsonSerializer.Deserialize<ActivityFailureDetails>(reader.GetString(8), EngineJson.Options),
                reader.IsDBNull(9) ? null : reader.GetString(9)));
        }

        return list;
    }

    private static async Task FinishAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string instanceId, string status, JsonElement? output, ActivityFailureDetails? failure, DateTime now,
        CancellationToken cancellationToken, JsonElement? customStatus = null, bool customStatusChanged = false)
    {
        await ExecuteAsync(connection, transaction,
            """
            UPDATE rcm_engine.instances SET status = $2, output = $3, failure = $4, updated_at = $5,
              custom_status = CASE WHEN $6 THEN $7 ELSE custom_status END
            WHERE instance_id = $1
            """,
            cancellationToken, instanceId, status, Json(output), Json(failure is null ? null : EngineJson.ToElement(failure)), now, customStatusChanged, Json(customStatus));
        // Pending timers and unclaimed work of a finished instance would only wake it for nothing.
        await ExecuteAsync(connection, transaction, "DELETE FROM rcm_engine.messages WHERE instance_id = $1", cancellationToken, instanceId);
        // Work no live lease holds is dropped; a running activity's own completion removes its item.
        await ExecuteAsync(connection, transaction,
            "DELETE FROM rcm_engine.activities WHERE instance_id = $1 AND (locked_until IS NULL OR locked_until < clock_timestamp())", cancellationToken, instanceId);
    }

    private static async Task InsertMessageAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string instanceId, HistoryEvent e, DateTime visibleAt, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, transaction, "INSERT INTO rcm_engine.messages (instance_id, event, visible_at) VALUES ($1, $2, $3)",
            cancellationToken, instanceId, Json(EngineJson.ToElement(e)), visibleAt);
        await ExecuteAsync(connection, transaction, $"NOTIFY {WakeChannel}", cancellationToken);
    }

    private static async Task InsertHistoryAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string instanceId, int firstSeq, IReadOnlyList<HistoryEvent> events, CancellationToken cancellationToken)
    {
        for (var i = 0; i < events.Count; i++)
        {
            await ExecuteAsync(connection, transaction, "INSERT INTO rcm_engine.history (instance_id, seq, event) VALUES ($1, $2, $3)",
                cancellationToken, instanceId, firstSeq + i, Json(EngineJson.ToElement(events[i])));
        }
    }

    private static async Task<List<(long Key, HistoryEvent Event)>> ReadEventsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object[] args)
    {
        await using var command = Command(connection, transaction, sql, args);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<(long, HistoryEvent)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add((Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture),
                JsonSerializer.Deserialize<HistoryEvent>(reader.GetString(1), EngineJson.Options)!));
        }

        return list;
    }

    private static async Task<DateTime> DatabaseNowAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        DateTime.SpecifyKind(await ScalarAsync<DateTime>(connection, transaction, "SELECT now()", cancellationToken), DateTimeKind.Utc);

    private static string[] RegisteredNames(DurableRegistry registry) => registry.OrchestratorNames.Select(n => n.ToLowerInvariant()).ToArray();

    private static JsonElement? JsonOrNull(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : JsonDocument.Parse(reader.GetString(ordinal)).RootElement.Clone();

    private static NpgsqlParameter Json(JsonElement? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = value is { ValueKind: not JsonValueKind.Undefined } v ? v.GetRawText() : DBNull.Value };

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object[] args)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var arg in args)
        {
            command.Parameters.Add(arg as NpgsqlParameter ?? new NpgsqlParameter { Value = arg });
        }

        return command;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object[] args)
    {
        await using var command = Command(connection, transaction, sql, args);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T?> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object[] args)
    {
        await using var command = Command(connection, transaction, sql, args);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? default : (T)value;
    }
}
