using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Recoveries;

/// <summary>
/// Region loss: recover every tenant of a lost server. The server is geo-restored as a NEW server (its latest geo-backup — not a
/// point in time), every tenant is frozen and smoke-checked there, ONE second person approves the whole recovery, then each
/// tenant is re-pointed to the recovered server (<c>identity.db_server</c>, its connection secret, cache invalidation), verified,
/// unfrozen and audited.
/// </summary>
/// <param name="Server">The lost server's name (<c>identity.db_server.name</c>).</param>
/// <param name="Stamp">When the recovery was asked for (<c>yyyyMMddHHmmss</c>): it names the recovered server <c>&lt;server&gt;-geo-&lt;stamp&gt;</c>.</param>
/// <param name="Force">Recover even though the server still answers the probe (e.g. it answers but its region is being evacuated).</param>
public sealed record RecoverServerRequest(string Server, string Stamp, string Reason, string RequestedBy, bool Force = false)
{
    /// <summary>The requester's stable id (four eyes compares it); null: <see cref="RequestedBy"/>.</summary>
    public string? RequestedById { get; init; }

    /// <summary>Polling, approval timeout, retries, status-cache wait and canary tables: the restore settings of the host.</summary>
    public RestoreSettings Settings { get; init; } = new();

    /// <summary>The id four eyes compares decisions against.</summary>
    public string RequesterId => RequestedById ?? RequestedBy;
}

/// <summary>The recovery's published status: one line per tenant, the recovered server and what it holds.</summary>
/// <param name="Phase"><c>probing</c>, <c>geo-restoring</c>, <c>freezing and checking</c>, <c>awaiting approval</c>, <c>re-pointing</c>, <c>completed</c>, <c>failed</c>, <c>refused</c>, <c>rejected</c> or <c>approval timed out</c>.</param>
/// <param name="RestorePoint">What the recovered server holds (the latest geo-backup / archived WAL, never a chosen second); null until it is Ready.</param>
/// <param name="TenantsOmitted">Lines of recovered tenants left out to keep the status within its budget (<see cref="RecoveryStatusBudget"/>); the result lists every tenant.</param>
public sealed record RecoverServerStatus(
    string Phase,
    string Server,
    string RecoveredServer,
    string? RecoveredServerState,
    string? RestorePoint,
    bool AwaitingApproval,
    IReadOnlyList<RecoveryTenantLine> Tenants,
    IReadOnlyList<DecisionRecord> Decisions,
    string? Error,
    string? OperatorAction,
    int TenantsOmitted = 0);

/// <summary>One tenant's line in a recovery.</summary>
/// <param name="RunId">The tenant's member id in the recovery: its freeze, re-point and audit rows are keyed by it.</param>
/// <param name="State"><c>waiting</c>, <c>checked</c> (frozen and smoke-checked on the recovered server), <c>recovered</c>, <c>failed</c> or <c>stopped</c> (rejected, timed out: unfrozen, not re-pointed).</param>
/// <param name="Step">The last step it went through.</param>
/// <param name="Frozen">True while the recovery holds its freeze (a tenant that was not active is re-pointed without one).</param>
/// <param name="Counts">Its canary counts on the recovered server (counts only).</param>
public sealed record RecoveryTenantLine(string Tenant, string RunId, string State, string? Step, string? Detail, bool Frozen = false, IReadOnlyDictionary<string, long>? Counts = null)
{
    /// <summary>True once the line can change no more.</summary>
    public bool Final => State is RecoveryTenantStates.Recovered or RecoveryTenantStates.Failed or RecoveryTenantStates.Stopped;
}

/// <summary>Tenant line states.</summary>
public static class RecoveryTenantStates
{
#pragma warning disable CS1591 // The names are their own documentation.
    public const string Waiting = "waiting";
    public const string Checked = "checked";
    public const string Recovered = "recovered";
    public const string Failed = "failed";
    public const string Stopped = "stopped";
#pragma warning restore CS1591
}

/// <summary>How a recovery ended.</summary>
public enum RecoveryOutcome
{
    /// <summary>Every tenant serves from the recovered server.</summary>
    Recovered,

    /// <summary>Some tenants serve from the recovered server; the others' lines say why not.</summary>
    PartlyRecovered,

    /// <summary>No tenant was recovered (the geo-restore failed, or every tenant did).</summary>
    Failed,

    /// <summary>The server still answers and the request did not say <c>force</c>: nothing was done.</summary>
    Refused,

    /// <summary>The approver rejected the recovery: every tenant was unfrozen and left on the lost server; the recovered server is kept for an operator.</summary>
    Rejected,

    /// <summary>Nobody decided in time: as rejected.</summary>
    ApprovalTimedOut,
}

/// <summary>The recovery's output.</summary>
public sealed record RecoverServerResult(RecoveryOutcome Outcome, string Server, string RecoveredServer, string? RestorePoint, IReadOnlyList<RecoveryTenantLine> Tenants, string Detail);

/// <summary>The activities only a recovery calls (it also calls freeze, unfreeze, cache invalidation, verify and audit).</summary>
public static class RecoveryActivityNames
{
#pragma warning disable CS1591 // The names are their own documentation.
    public const string ProbeServer = nameof(ProbeServer);
    public const string ListServerTenants = nameof(ListServerTenants);
    public const string StartGeoRestore = nameof(StartGeoRestore);
    public const string GetGeoRestoreState = nameof(GetGeoRestoreState);
    public const string CheckRecoveredTenant = nameof(CheckRecoveredTenant);
    public const string RepointTenant = nameof(RepointTenant);
#pragma warning restore CS1591
}
