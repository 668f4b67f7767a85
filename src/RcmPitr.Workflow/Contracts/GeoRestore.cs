namespace RcmPitr.Workflow.Contracts;

/// <summary>
/// Input of a geo-restore (region loss): the source's latest geo-backup restored as a NEW server in the paired region (Azure),
/// or the newest base backup and every archived WAL segment restored into a new local cluster. Never a point in time: there is
/// no restore time to ask for.
/// </summary>
/// <param name="ServerName">The new server's name (<c>&lt;source&gt;-geo-&lt;stamp&gt;</c>); asking again for the same name is a no-op.</param>
public sealed record GeoRestoreInput(string RunId, DbServerInfo Source, string ServerName);

/// <summary>Result of starting (or finding) a geo-restore.</summary>
/// <param name="Location">Where the server is restored: Azure's paired region, or <c>local</c>.</param>
/// <param name="RequestedAt">When the restore was asked for.</param>
/// <param name="RestorePoint">
/// What the server holds, as far as the platform says when the restore starts: on Azure the latest geo-backup available in
/// <paramref name="Location"/> at <paramref name="RequestedAt"/>, which lags the source by up to an hour (Azure reports no exact
/// time); locally the newest base backup plus every archived WAL segment. Once the server is Ready its state says more
/// (<see cref="GeoRestoreState.RestorePoint"/>).
/// </param>
/// <param name="OperationUrl">The platform's async operation for the restore, when it has one; poll with <see cref="GetServerStateInput"/>.</param>
public sealed record GeoRestoreResult(string ServerName, ServerState State, bool AlreadyExisted, string Location, DateTimeOffset RequestedAt, string RestorePoint, string? OperationUrl = null);

/// <summary>A geo-restored server's state: the provisioner's status plus, once Ready, an honest statement of what it holds.</summary>
/// <param name="RestorePoint">
/// Null until Ready. Then what the server holds: locally the time of the last transaction replayed from the archive
/// (<c>pg_last_xact_replay_timestamp()</c>) and the newest archived segment; on Azure the latest geo-backup, with no exact time.
/// </param>
/// <param name="LastTransactionAt">The last replayed transaction's commit time, when the platform can tell; null when it cannot.</param>
public sealed record GeoRestoreState(ServerStatus Status, string? RestorePoint = null, DateTimeOffset? LastTransactionAt = null);

/// <summary>The source's firewall rules on a geo-restored server (a point-in-time restore inherits them; a geo-restore does not).</summary>
/// <param name="SourceRules">The rules of the source, by name.</param>
/// <param name="Created">Rules this call asked Azure to create on the new server.</param>
/// <param name="Missing">Rules of the source the new server does not show yet: call again until empty.</param>
/// <param name="Problem">Why rules cannot be applied (the server is not Ready, or the source uses private access), or null.</param>
public sealed record FirewallRulesResult(IReadOnlyList<string> SourceRules, IReadOnlyList<string> Created, IReadOnlyList<string> Missing, string? Problem = null);

/// <summary>Input of the probe that tells whether a server still answers (a recovery refuses a server that does, unless forced).</summary>
public sealed record ProbeServerInput(DbServerInfo Server);

/// <summary>Whether the server answered a connection and <c>SELECT 1</c> within the probe's timeout, and what happened (never a secret).</summary>
public sealed record ProbeServerResult(string ServerName, bool Reachable, string Detail);

/// <summary>Input of the activity that lists the tenants registered on a server.</summary>
public sealed record ListServerTenantsInput(string Server);

/// <summary>The server as the master database records it, and every tenant registered on it (whatever its status), in slug order.</summary>
public sealed record ListServerTenantsResult(DbServerInfo Server, IReadOnlyList<TenantInfo> Tenants);

/// <summary>
/// Input of the re-point step of a recovery: the tenant moves from <paramref name="LostServer"/> to <paramref name="Recovered"/>
/// (registered in <c>identity.db_server</c> if absent; <c>identity.tenant.db_server</c> set; a copy of its connection secret
/// pointed at the recovered host and port under a new reference, keeping the database name) with an audit row, in one master
/// transaction. Only while the tenant is still on <paramref name="LostServer"/>, or already re-pointed by this run.
/// </summary>
/// <param name="RunId">The tenant's member id in the recovery (keys the audit row).</param>
/// <param name="RestorePoint">The restore point statement, recorded in the audit row.</param>
public sealed record RepointTenantInput(string RunId, Guid TenantId, string Tenant, string LostServer, DbServerInfo Recovered, string RestorePoint, string Actor, string Reason);

/// <summary>What the re-point did.</summary>
/// <param name="PreviousRef">The connection reference the tenant had; it is left as it was (an operator can point back).</param>
/// <param name="Changed">False when an earlier attempt of this run had already re-pointed the tenant.</param>
public sealed record RepointTenantResult(string PreviousServer, string PreviousRef, string NewRef, string Database, bool Changed);

/// <summary>Input of the smoke check of one tenant's database on a recovered server: it exists and its canary tables count.</summary>
/// <param name="CanaryTables">Tables to count (<c>schema.table</c>); null: the runbook's three.</param>
public sealed record CheckRecoveredTenantInput(DbServerInfo Server, string Database, IReadOnlyList<string>? CanaryTables = null);

/// <summary>The tenant database's canary counts on the recovered server (counts only, never row data).</summary>
public sealed record CheckRecoveredTenantResult(string Database, IReadOnlyDictionary<string, long> Counts);
