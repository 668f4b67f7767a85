using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Provisioning;

/// <summary>
/// Point-in-time restored servers as owned, shared resources (ADR 0007). A restored server is identified by (source
/// server, restore time to the second) and named <see cref="ServerNames.Pitr"/>; the master database's
/// <c>rcm_pitr.restored_server</c> records the servers RcmPitr created and <c>rcm_pitr.restored_server_holder</c> the runs
/// holding each. A run acquires a hold (the first holder has the provisioner create the server, later ones attach),
/// releases only its own hold, and the server is deleted when its last holder releases it — never by a run that does
/// not hold it, never one RcmPitr did not create.
/// <para>
/// Safety: holds are rows keyed by (server, run), written under a row lock, so concurrent and retried acquires converge;
/// every provisioning and deletion of one server runs under a master advisory lock on its name
/// (<see cref="RestoredServerLock"/>); the row exists before the server does and goes only after it is gone, so a
/// crash never leaves a row claiming a server nobody will delete, nor a server without its row; a server whose last
/// holder released it (state <c>deleting</c>) is never attached to: acquiring fails with the retryable
/// <see cref="ServerBeingDeletedException"/> until it is gone, then creates it anew.
/// </para>
/// </summary>
public sealed partial class RestoredServers(ControlPlaneDatabase master, IServerProvisioner provisioner, TimeProvider time, ILogger<RestoredServers> logger)
{
    private const string Active = "active";
    private const string Deleting = "deleting";


    /// <summary>Takes (or finds) the run's hold on the server for (source, T), creating the server if the run is the first holder.</summary>
    public async Task<AcquireServerResult> AcquireAsync(AcquireServerInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(input.Source);
        var runId = RunIds.Require(input.RunId);
        var name = ServerNames.Pitr(input.Source.Name, RestoreStamp.From(input.RestoreTime));
        await EnsureSchemaAsync(cancellationToken);
        await using var connection = await master.OpenAsync(cancellationToken);

        // A deletion under way is never waited for and never attached to: if its release still works on it, go away now.
        var pending = await ReadAsync(connection, null, name, cancellationToken);
        await using var held = pending?.State == Deleting
            ? await RestoredServerLock.TryTakeAsync(connection, name, cancellationToken)
              ?? throw new ServerBeingDeletedException(name, $"its last holder {pending.DeletingRun} released it and is deleting it")
            : await RestoredServerLock.TakeAsync(connection, name, cancellationToken);

        var (row, newRow, newHold) = await RecordHoldAsync(connection, runId, input, name, cancellationToken);
        ProvisionServerResult provisioned;
        try
        {
            provisioned = await provisioner.ProvisionAsync(new ProvisionServerInput(runId, input.Source, name, input.RestoreTime), cancellationToken);
        }
        catch (RcmPitrException) when (newHold)
        {
            // A refusal creates nothing (a foreign server of that name, a time outside retention): take back what this call
            // recorded. Any other failure keeps it, and so does a refusal on a retry, so the retry or the release converges.
            await DropRefusedHoldAsync(connection, runId, name, newRow, cancellationToken);
            throw;
        }

        var state = await provisioner.GetStateAsync(new GetServerStateInput(input.Source, name, provisioned.OperationUrl), cancellationToken);
        var holders = await HoldersAsync(connection, null, name, cancellationToken);
        var created = row.CreatedByRun == runId;
        if (created)
        {
            LogCreated(logger, runId, name, provisioned.AlreadyExisted);
        }
        else
        {
            LogAttached(logger, runId, name, holders.Count);
        }

        return new AcquireServerResult(name, state.State == ServerState.NotFound ? provisioned.State : state.State, created, holders, provisioned.OperationUrl);
    }

    /// <summary>
    /// Gives up the run's hold. The last holder deletes the server (only one RcmPitr created, through the provisioner's own
    /// ownership check); a run that holds nothing releases nothing. A retry after a crash midway finishes the deletion.
    /// </summary>
    public async Task<ReleaseServerResult> ReleaseAsync(ReleaseServerInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(input.Source);
        var runId = RunIds.Require(input.RunId);
        var name = ServerNames.Require(input.ServerName, "serverName");
        if (!name.StartsWith(input.Source.Name + "-pitr-", StringComparison.Ordinal))
        {
            throw new InvalidRestoreInputException("serverName", $"'{name}' is not a restored server of {input.Source.Name}");
        }

        await EnsureSchemaAsync(cancellationToken);
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var held = await RestoredServerLock.TakeAsync(connection, name, cancellationToken);

        Row row;
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            if (await ReadAsync(connection, transaction, name, cancellationToken, forUpdate: true) is not { } found)
            {
                await transaction.CommitAsync(cancellationToken);
                return new ReleaseServerResult(name, Held: false, Deleted: false, []);
            }

            row = found;
            var released = await ExecuteAsync(connection, transaction, "DELETE FROM rcm_pitr.restored_server_holder WHERE server_name = $1 AND run_id = $2", cancellationToken, name, runId) > 0;
            if (row.State == Deleting)
            {
                if (row.DeletingRun != runId)
                {
                    await transaction.CommitAsync(cancellationToken);
                    return new ReleaseServerResult(name, Held: false, Deleted: false, []);
                }

                // This run released it last and crashed before the server was gone: finish the deletion.
            }
            else
            {
                var remaining = await HoldersAsync(connection, transaction, name, cancellationToken);
                if (!released || remaining.Count > 0)
                {
                    await transaction.CommitAsync(cancellationToken);
                    if (released)
                    {
                        LogReleased(logger, runId, name, remaining.Count);
                    }

                    return new ReleaseServerResult(name, released, Deleted: false, remaining);
                }

                await ExecuteAsync(
                    connection,
                    transaction,
                    "UPDATE rcm_pitr.restored_server SET state = 'deleting', deleting_run = $2, state_changed_at = $3 WHERE server_name = $1",
                    cancellationToken,
                    name,
                    runId,
                    time.GetUtcNow());
            }

            await transaction.CommitAsync(cancellationToken);
        }

        LogDeleting(logger, runId, name);
        var deletion = await provisioner.DeleteAsync(new DeleteServerInput(input.Source, name, row.RestoreTime), cancellationToken);
        var after = deletion.Deleted ? await provisioner.GetStateAsync(new GetServerStateInput(input.Source, name), cancellationToken) : null;
        if (after is null || after.State == ServerState.NotFound)
        {
            // Gone, or not the provisioner's to delete (already gone, or a server it only borrows, like a pre-restored one).
            await ForgetDeletedAsync(connection, name, cancellationToken);
        }
        else
        {
            // The platform deletes asynchronously (Azure: Dropping): the row stays 'deleting' until the server is gone.
            LogDeletionUnderWay(logger, name, after.Detail ?? after.State.ToString());
        }

        return new ReleaseServerResult(name, Held: true, Deleted: true, []);
    }

    // Under the name lock: the row (new, or this run's own from an earlier attempt, or another run's) and this run's hold,
    // and whether this call wrote each.
    private async Task<(Row Row, bool NewRow, bool NewHold)> RecordHoldAsync(NpgsqlConnection connection, string runId, AcquireServerInput input, string name, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var row = await ReadAsync(connection, transaction, name, cancellationToken, forUpdate: true);
        if (row is { State: Deleting })
        {
            // Nobody is deleting it now (we hold the name lock): either the deletion finished, or its release died midway.
            var status = await provisioner.GetStateAsync(new GetServerStateInput(input.Source, name), cancellationToken);
            if (status.State != ServerState.NotFound)
            {
                throw new ServerBeingDeletedException(name, $"its last holder {row.DeletingRun} released it; the deletion has not finished ({status.Detail ?? status.State.ToString()})");
            }

            await ExecuteAsync(connection, transaction, "DELETE FROM rcm_pitr.restored_server WHERE server_name = $1 AND state = 'deleting'", cancellationToken, name);
            row = null;
        }

        if (row is not null && (row.Source != input.Source.Name || row.RestoreTime != Microseconds(input.RestoreTime)))
        {
            throw new InvalidRestoreInputException(
                "restoreTime",
                $"the restored server {name} serves {row.Source} restored to {row.RestoreTime.UtcDateTime:O}, not {input.Source.Name} restored to " +
                $"{input.RestoreTime.UtcDateTime:O}; restored servers are shared per second, so restore to a whole second");
        }

        var newRow = row is null;
        if (row is null)
        {
            await ExecuteAsync(
                connection,
                transaction,
                """
                INSERT INTO rcm_pitr.restored_server (server_name, source_server, restore_time, state, created_by_run, created_at, state_changed_at)
                VALUES ($1, $2, $3, 'active', $4, $5, $5)
                """,
                cancellationToken,
                name,
                input.Source.Name,
                input.RestoreTime.ToUniversalTime(),
                runId,
                now);
            row = new Row(name, input.Source.Name, Microseconds(input.RestoreTime), Active, runId, null);
        }

        var newHold = await ExecuteAsync(
            connection,
            transaction,
            "INSERT INTO rcm_pitr.restored_server_holder (server_name, run_id, acquired_at) VALUES ($1, $2, $3) ON CONFLICT (server_name, run_id) DO NOTHING",
            cancellationToken,
            name,
            runId,
            now) > 0;
        await transaction.CommitAsync(cancellationToken);
        return (row, newRow, newHold);
    }

    private static async Task DropRefusedHoldAsync(NpgsqlConnection connection, string runId, string name, bool withRow, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, "DELETE FROM rcm_pitr.restored_server_holder WHERE server_name = $1 AND run_id = $2", cancellationToken, name, runId);
        if (withRow)
        {
            await ExecuteAsync(
                connection,
                transaction,
                """
                DELETE FROM rcm_pitr.restored_server s
                WHERE s.server_name = $1 AND s.state = 'active'
                  AND NOT EXISTS (SELECT 1 FROM rcm_pitr.restored_server_holder h WHERE h.server_name = s.server_name)
                """,
                cancellationToken,
                name);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private async Task ForgetDeletedAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, null, "DELETE FROM rcm_pitr.restored_server WHERE server_name = $1 AND state = 'deleting'", cancellationToken, name);
        LogDeleted(logger, name);
    }

    // RcmPitr's own tables reach a production master on first use (the platform's are never touched); local masters
    // and tests have them from the full migration already.
    private async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await master.EnsureOwnTablesAsync(["rcm_pitr.restored_server", "rcm_pitr.restored_server_holder"], "V003__restored_servers.sql", cancellationToken);
    }

    private static async Task<Row?> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string name, CancellationToken cancellationToken, bool forUpdate = false)
    {
        await using var command = new NpgsqlCommand(
            "SELECT server_name, source_server, restore_time, state, created_by_run, deleting_run FROM rcm_pitr.restored_server WHERE server_name = $1" +
            (forUpdate ? " FOR UPDATE" : string.Empty),
            connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new Row(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetFieldValue<DateTimeOffset>(2),
                reader.GetString(3),
                reader.GetString(4),
                await reader.IsDBNullAsync(5, cancellationToken) ? null : reader.GetString(5))
            : null;
    }

    private static async Task<IReadOnlyList<string>> HoldersAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT run_id FROM rcm_pitr.restored_server_holder WHERE server_name = $1 ORDER BY acquired_at, run_id", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var holders = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            holders.Add(reader.GetString(0));
        }

        return holders;
    }

    private static async Task<int> ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // timestamptz keeps microseconds.
    private static DateTimeOffset Microseconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % 10), TimeSpan.Zero);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} holds restored server {Server}, which it had created (already existing: {AlreadyExisted})")]
    private static partial void LogCreated(ILogger logger, string runId, string server, bool alreadyExisted);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} attached to restored server {Server} ({Holders} holders)")]
    private static partial void LogAttached(ILogger logger, string runId, string server, int holders);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} released restored server {Server}; {Remaining} holders keep it")]
    private static partial void LogReleased(ILogger logger, string runId, string server, int remaining);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} released restored server {Server} last; deleting it")]
    private static partial void LogDeleting(ILogger logger, string runId, string server);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored server {Server} is deleted")]
    private static partial void LogDeleted(ILogger logger, string server);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deletion of restored server {Server} is under way ({Detail}); its row stays until it is gone")]
    private static partial void LogDeletionUnderWay(ILogger logger, string server, string detail);

    private sealed record Row(string ServerName, string Source, DateTimeOffset RestoreTime, string State, string CreatedByRun, string? DeletingRun);
}
