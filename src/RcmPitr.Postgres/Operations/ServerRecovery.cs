using System.Globalization;
using System.Net.Sockets;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Parity;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// The control-plane side of a region-loss recovery: probe the lost server, list its tenants, smoke-check a tenant's database
/// on the recovered server, and re-point a tenant to it. The master database is assumed to survive the region (it lives
/// elsewhere, or is itself recovered first); only tenants registered on the lost server are ever changed.
/// </summary>
public sealed class ServerRecovery(ControlPlaneDatabase master, PgConnector connector, ISecretStore secrets, TenantResolver resolver)
{
    /// <summary>How long the probe waits for the server to answer.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Whether <see cref="ProbeServerInput.Server"/> answers a connection and <c>SELECT 1</c> within <see cref="ProbeTimeout"/>.
    /// A server that does not answer is reported, not thrown; a missing secret or a bad input throws.
    /// </summary>
    public async Task<ProbeServerResult> ProbeAsync(ProbeServerInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(input.Server);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            await using var connection = await connector.OpenMaintenanceAsync(input.Server, timeout.Token);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(timeout.Token);
            return new ProbeServerResult(input.Server.Name, Reachable: true, $"{input.Server.Name} answered on {input.Server.Fqdn}:{input.Server.Port.ToString(CultureInfo.InvariantCulture)}");
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The server's own messages are not quoted: only the kind of failure and the SQLSTATE, if any.
            var why = e switch
            {
                PostgresException p => $"the server refused with SQLSTATE {p.SqlState}",
                OperationCanceledException or TimeoutException => $"no answer within {ProbeTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s",
                _ => e.InnerException is SocketException s ? $"connection failed ({s.SocketErrorCode})" : "connection failed",
            };
            return new ProbeServerResult(input.Server.Name, Reachable: false, $"{input.Server.Name} on {input.Server.Fqdn}:{input.Server.Port.ToString(CultureInfo.InvariantCulture)}: {why}");
        }
    }

    /// <summary>The server as <c>identity.db_server</c> records it and every tenant registered on it, resolved (whatever their status), in slug order.</summary>
    public async Task<ListServerTenantsResult> ListTenantsAsync(ListServerTenantsInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = ServerNames.Require(input.Server, "server");
        DbServerInfo server;
        await using (var connection = await master.OpenAsync(cancellationToken))
        await using (var command = new NpgsqlCommand(
            "SELECT name, fqdn, port, admin_user, admin_secret_ref, major_version, arm_resource_id FROM identity.db_server WHERE name = $1", connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = name });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidRestoreInputException("server", $"no server '{name}' is registered (identity.db_server)");
            }

            server = new DbServerInfo(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6));
        }

        var tenants = new List<TenantInfo>();
        foreach (var (slug, _) in await resolver.TenantsOnServerAsync(name, cancellationToken) ?? [])
        {
            tenants.Add(await resolver.ResolveAsync(new ResolveTenantInput(slug, RequireActive: false), cancellationToken));
        }

        return new ListServerTenantsResult(server, tenants);
    }

    /// <summary>The tenant database exists on the recovered server and its canary tables count; throws when it does not exist.</summary>
    public async Task<CheckRecoveredTenantResult> CheckAsync(CheckRecoveredTenantInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(input.Server);
        var database = PgIdentifierRules.RequireDatabaseName(input.Database);
        var tables = CanaryTable.ParseList(input.CanaryTables);
        await using (var maintenance = await connector.OpenMaintenanceAsync(input.Server, cancellationToken))
        {
            if (await new ServerCatalog(maintenance).FindAsync(database, cancellationToken) is null)
            {
                throw new DatabaseStateConflictException($"{database} does not exist on the recovered server {input.Server.Name}.");
            }
        }

        await using var connection = await connector.OpenAsync(input.Server, database, cancellationToken);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            await using var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection);
            exists.Parameters.Add(new NpgsqlParameter { Value = $"{PgQuote.Identifier(table.Schema)}.{PgQuote.Identifier(table.Table)}" });
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                throw new DatabaseStateConflictException($"{database} on {input.Server.Name} has no table {table}.");
            }

            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {PgQuote.Identifier(table.Schema)}.{PgQuote.Identifier(table.Table)}", connection);
            counts[table.ToString()] = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        return new CheckRecoveredTenantResult(database, counts);
    }

    /// <summary>The connection reference a re-point to <paramref name="recoveredServer"/> writes for <paramref name="slug"/>.</summary>
    public static string NewRefFor(TenantSlug slug, string recoveredServer)
    {
        ArgumentNullException.ThrowIfNull(slug);
        var name = ServerNames.Require(recoveredServer, "recoveredServer");
        var stamp = ServerNames.IsGeo(name) ? name[^14..] : RunIds.Tag(name);
        return $"tenant-db-{slug.Value}-geo-{stamp}";
    }

    /// <summary>
    /// Re-points the tenant to the recovered server in one master transaction: the server is registered in
    /// <c>identity.db_server</c> if absent (an existing row must describe the same host and port), a copy of the tenant's
    /// connection secret pointed at the recovered host and port is written under a new reference (the old secret is left as it
    /// was), <c>identity.tenant.db_server</c> and <c>db_config_ref</c> are set, a <see cref="AuditEvents.DbServerChanged"/> row
    /// records the previous values, and the tenant's caches are told. Only while the tenant is still on the lost server; a retry
    /// finds its audit row and reports what it did.
    /// </summary>
    public async Task<RepointTenantResult> RepointAsync(RepointTenantInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(input.Recovered);
        var runId = RunIds.Require(input.RunId);
        var slug = TenantSlug.Parse(input.Tenant);
        var lost = ServerNames.Require(input.LostServer, "lostServer");
        var recovered = input.Recovered with { Name = ServerNames.Require(input.Recovered.Name, "recoveredServer") };
        var key = $"{runId}:repoint";
        var newRef = NewRefFor(slug, recovered.Name);

        await using var connection = await master.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        string currentServer, currentRef, currentSlug;
        await using (var locked = new NpgsqlCommand("SELECT slug, db_server, db_config_ref FROM identity.tenant WHERE id = $1 FOR UPDATE", connection, transaction))
        {
            locked.Parameters.Add(new NpgsqlParameter { Value = input.TenantId });
            await using var reader = await locked.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new TenantNotFoundException(slug.Value);
            }

            (currentSlug, currentServer, currentRef) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
        }

        if (currentSlug != slug.Value)
        {
            throw new DatabaseStateConflictException($"Tenant {input.TenantId} is '{currentSlug}', not '{slug.Value}'. Nothing was changed.");
        }

        if (await AuditRows.FindAsync(connection, transaction, key, cancellationToken) is { } done)
        {
            using var details = done.Details;
            await transaction.CommitAsync(cancellationToken);
            var root = details.RootElement;
            return new RepointTenantResult(root.GetProperty("fromServer").GetString()!, root.GetProperty("fromRef").GetString()!, root.GetProperty("toRef").GetString()!, root.GetProperty("database").GetString()!, Changed: false);
        }

        if (currentServer != lost)
        {
            throw new DatabaseStateConflictException(
                $"Tenant {slug.Value} is on server {currentServer}, not on the lost server {lost}: it moved since the recovery listed it, and is left as it is.");
        }

        await RegisterServerAsync(connection, transaction, recovered, cancellationToken);
        var current = await secrets.GetSecretAsync(currentRef, cancellationToken);
        var database = ConnectionSecrets.DatabaseOf(current);
        await secrets.SetSecretAsync(newRef, ConnectionSecrets.WithServer(current, recovered.Fqdn, recovered.Port), cancellationToken);

        await using (var update = new NpgsqlCommand("UPDATE identity.tenant SET db_server = $2, db_config_ref = $3 WHERE id = $1", connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = input.TenantId });
            update.Parameters.Add(new NpgsqlParameter { Value = recovered.Name });
            update.Parameters.Add(new NpgsqlParameter { Value = newRef });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        var audit = new Dictionary<string, string>
        {
            ["fromServer"] = currentServer,
            ["toServer"] = recovered.Name,
            ["fromRef"] = currentRef,
            ["toRef"] = newRef,
            ["database"] = database,
            ["restorePoint"] = input.RestorePoint,
            ["runId"] = runId,
        };
        await AuditRows.InsertAsync(connection, transaction, key, input.TenantId, AuditEvents.DbServerChanged, input.Actor, input.Reason, audit, cancellationToken);
        await TenantNotifications.NotifyAsync(connection, transaction, input.TenantId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RepointTenantResult(currentServer, currentRef, newRef, database, Changed: true);
    }

    private static async Task RegisterServerAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DbServerInfo server, CancellationToken cancellationToken)
    {
        await using (var insert = new NpgsqlCommand(
            """
            INSERT INTO identity.db_server (name, fqdn, port, admin_user, admin_secret_ref, major_version, arm_resource_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (name) DO NOTHING
            """,
            connection,
            transaction))
        {
            foreach (var value in new object?[] { server.Name, server.Fqdn, server.Port, server.AdminUser, server.AdminSecretRef, server.MajorVersion, server.ArmResourceId })
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
            }

            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var check = new NpgsqlCommand("SELECT fqdn, port FROM identity.db_server WHERE name = $1", connection, transaction);
        check.Parameters.Add(new NpgsqlParameter { Value = server.Name });
        await using var reader = await check.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (reader.GetString(0) != server.Fqdn || reader.GetInt32(1) != server.Port)
        {
            throw new DatabaseStateConflictException(
                $"identity.db_server already has a server {server.Name} at {reader.GetString(0)}:{reader.GetInt32(1).ToString(CultureInfo.InvariantCulture)}, not at the recovered server's address; nothing was changed.");
        }
    }
}
