using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Workflow.Restores;

/// <summary>What a restore run does.</summary>
public enum RestoreMode
{
    /// <summary>The runbook: freeze, restore, approve, cut over, unfreeze.</summary>
    Restore,

    /// <summary>Every step except freeze, approval and cutover; the copy and the PITR server are removed afterwards.</summary>
    DryRun,

    /// <summary>A compliance as-of copy <c>tenant_&lt;x&gt;_asof_&lt;stamp&gt;</c> on the live server; no freeze, no cutover.</summary>
    Snapshot,
}

/// <summary>How the restored copy becomes live (runbook step 6).</summary>
public enum CutoverStrategy
{
    /// <summary>Rename swap; the previous database is kept as <c>_pre_pitr_</c> for the retention period.</summary>
    SwapAndKeep,

    /// <summary>Point the tenant's <c>db_config_ref</c> at the restored database, which keeps its suffix.</summary>
    FlipTheRef,
}

/// <summary>A restore request, as accepted by the API. <see cref="RequestedBy"/> is the authenticated principal.</summary>
public sealed record RestoreRequest(
    string Tenant,
    DateTimeOffset RestoreTime,
    RestoreMode Mode,
    CutoverStrategy Strategy,
    string Reason,
    string RequestedBy)
{
    /// <summary>How the tenant database is moved; <see cref="TransferMode.Runbook"/> keeps the runbook's separate dump and load steps.</summary>
    public TransferMode Transfer { get; init; } = TransferMode.Streaming;

    /// <summary>Timings and probe settings; defaults follow the runbook.</summary>
    public RestoreSettings Settings { get; init; } = new();

    /// <summary>The requester's stable id (four eyes compares it); <see cref="RequestedBy"/> is how they are shown. Null: the same as <see cref="RequestedBy"/>.</summary>
    public string? RequestedById { get; init; }

    /// <summary>The id four eyes compares decisions against.</summary>
    public string RequesterId => RequestedById ?? RequestedBy;
}

/// <summary>Durations and thresholds of a run.</summary>
public sealed record RestoreSettings
{
    /// <summary>Wait after the freeze for status caches to expire (runbook: <c>TENANT_STATUS_CACHE_TTL_MS</c>, 30 s).</summary>
    public TimeSpan StatusCacheTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First wait between provisioning polls; doubles up to <see cref="MaxPollInterval"/>.</summary>
    public TimeSpan FirstPollInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Longest wait between provisioning polls.</summary>
    public TimeSpan MaxPollInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Give up on provisioning after this long (Azure takes 60–90 min).</summary>
    public TimeSpan ProvisionTimeout { get; init; } = TimeSpan.FromHours(4);

    /// <summary>
    /// How long after the restore was accepted a server the platform does not show yet counts as still provisioning (ARM can
    /// answer 404 for a while after accepting the PUT); after it, a missing server fails the run.
    /// </summary>
    public TimeSpan ProvisionNotFoundGrace { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a human has to approve the cutover.</summary>
    public TimeSpan ApprovalTimeout { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How long the <c>_pre_pitr_</c> database is kept after a swap.</summary>
    public TimeSpan PrePitrRetention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Canary tables (<c>schema.table</c>); null: the runbook's three.</summary>
    public IReadOnlyList<string>? CanaryTables { get; init; }

    /// <summary>Ratio at which parity counts count as orders of magnitude apart.</summary>
    public double ParityFactor { get; init; } = 100;

    /// <summary>Attempts of a step whose activity fails transiently (refusals are never retried).</summary>
    public int RetryAttempts { get; init; } = 5;

    /// <summary>Wait before the first retry of a step; it doubles up to <see cref="RetryMaxInterval"/>.</summary>
    public TimeSpan RetryFirstInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest wait between retries of a step.</summary>
    public TimeSpan RetryMaxInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The retry policy of every step of a run.</summary>
    public RetryPolicy RetryPolicy() => new(Math.Max(1, RetryAttempts), RetryFirstInterval, 2.0, RetryMaxInterval);
}

/// <summary>The human decision raised on the <see cref="RestoreEvents.Approval"/> event.</summary>
/// <param name="DecidedBy">How the decider is shown (and audited as <c>approvedBy</c>).</param>
/// <param name="DecidedById">The decider's stable id; null: the same as <paramref name="DecidedBy"/>.</param>
/// <param name="DecidedAt">
/// When the decider took it (the API's time, as recorded in its decision log); null: when the run read it. A run busy
/// elsewhere may read a decision after later attempts were already refused because of it; the timeline keeps the order
/// in which people decided.
/// </param>
public sealed record ApprovalDecision(bool Approved, string DecidedBy, string? Comment = null, string? DecidedById = null, DateTimeOffset? DecidedAt = null)
{
    /// <summary>The id four eyes compares against the requester's.</summary>
    public string DeciderId => DecidedById ?? DecidedBy;

    /// <summary>The time the timeline shows for this decision, read by a run at <paramref name="readAt"/>.</summary>
    public DateTime TimedAt(DateTime readAt) => DecidedAt?.UtcDateTime ?? readAt;
}

/// <summary>Raised on <see cref="RestoreEvents.Cancel"/>: stop and compensate.</summary>
public sealed record CancelRequest(string RequestedBy, string? Reason = null);

/// <summary>External event names of a restore run.</summary>
public static class RestoreEvents
{
    /// <summary>The approver's decision.</summary>
    public const string Approval = "approval";

    /// <summary>A cancel request.</summary>
    public const string Cancel = "cancel";
}

/// <summary>How a run ended.</summary>
public enum RestoreOutcome
{
    /// <summary>Cut over; the tenant runs on the restored copy.</summary>
    Restored,

    /// <summary>Dry run finished; everything it created was removed.</summary>
    DryRunCompleted,

    /// <summary>The as-of copy exists.</summary>
    SnapshotCreated,

    /// <summary>The approver rejected the cutover; compensated.</summary>
    Rejected,

    /// <summary>Nobody decided in time; compensated.</summary>
    ApprovalTimedOut,

    /// <summary>Cancelled on request; compensated.</summary>
    Cancelled,

    /// <summary>A cutover was rolled back.</summary>
    RolledBack,
}

/// <summary>The run's output.</summary>
public sealed record RestoreResult(
    RestoreOutcome Outcome,
    string Tenant,
    string Stamp,
    string? LiveDatabase,
    string? KeptDatabase,
    ParityReportSummary? Parity,
    string? Detail);

/// <summary>The parity verdict and its numbers, as carried in results and audit rows.</summary>
public sealed record ParityReportSummary(string Verdict, IReadOnlyList<string> Rows);
