using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// A run's custom status: a timeline a person can read while polling — each step with its start, end,
/// outcome, a short detail (sizes, counts, server names; never secrets or row data) and every failed attempt,
/// the parity table, the change report's summary, whether the run waits for a human, and every decision it received.
/// </summary>
/// <param name="Changes">What the cutover changes, per table (the full report with sampled keys is served by
/// <c>GET /api/restores/{id}/changes</c>); null before the report, or when it could not be made (its step says why).</param>
public sealed record RestoreStatus(
    string Tenant,
    string Mode,
    string Stamp,
    string Phase,
    bool AwaitingApproval,
    IReadOnlyList<TimelineStep> Steps,
    ParityReport? Parity,
    string? Error,
    string? OperatorAction,
    IReadOnlyList<DecisionRecord>? Decisions = null,
    ChangeSummary? Changes = null);

/// <summary>One step of the timeline.</summary>
/// <param name="Outcome"><c>running</c>, <c>succeeded</c>, <c>failed</c>, <c>stopped</c> (rejected, timed out, cancelled) or <c>compensated</c>.</param>
/// <param name="Attempts">The attempts of the step that failed and were retried, with why; null when the first attempt did it.</param>
public sealed record TimelineStep(string Name, DateTime StartedAt, DateTime? EndedAt, string Outcome, string? Detail, IReadOnlyList<StepAttempt>? Attempts = null);

/// <summary>A failed attempt of a step's activity, retried after <see cref="RetryAt"/>.</summary>
public sealed record StepAttempt(int Attempt, string Activity, DateTime FailedAt, string Reason, DateTime RetryAt);

/// <summary>A decision the run received on its approval gate, accepted or refused.</summary>
/// <param name="Decision"><c>approve</c> or <c>reject</c>.</param>
/// <param name="Accepted">False when the run refused it (the requester deciding on their own run).</param>
/// <param name="Note">Why it was refused, or the decider's comment.</param>
public sealed record DecisionRecord(DateTime At, string By, string Decision, bool Accepted, string? Note);

/// <summary>Step names as they appear in the timeline and in failure messages.</summary>
public static class RestoreSteps
{
#pragma warning disable CS1591 // The names are their own documentation.
    public const string Resolve = "resolve tenant";
    public const string Freeze = "freeze tenant";
    public const string CacheWait = "wait for status caches";
    public const string Provision = "start point-in-time restore";
    public const string WaitReady = "wait for restored server";
    public const string Preflight = "preflight";
    public const string Dump = "dump tenant database";
    public const string Load = "load into new database";
    public const string Transfer = "move tenant database";
    public const string Parity = "parity probe";
    public const string Changes = "change report";
    public const string NotifyApprovers = "notify approvers";
    public const string Approval = "await approval";
    public const string ConfirmFreeze = "confirm freeze";
    public const string CancelRetention = "cancel drop of kept database";
    public const string Cutover = "cut over";
    public const string InvalidateCache = "invalidate caches";
    public const string Verify = "verify cutover";
    public const string Unfreeze = "unfreeze tenant";
    public const string Audit = "audit";
    public const string Notify = "notify";
    public const string CleanUp = "clean up";
    public const string ScheduleDrop = "schedule drop of kept database";
    public const string Rollback = "roll back";
#pragma warning restore CS1591
}
