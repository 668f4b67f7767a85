using RcmPitr.Workflow.Parity;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// A run's custom status: a timeline a person can read while polling — each step with its start, end,
/// outcome and a short detail (sizes, counts, server names; never secrets or row data), the parity table,
/// and whether the run waits for a human.
/// </summary>
public sealed record RestoreStatus(
    string Tenant,
    string Mode,
    string Stamp,
    string Phase,
    bool AwaitingApproval,
    IReadOnlyList<TimelineStep> Steps,
    ParityReport? Parity,
    string? Error,
    string? OperatorAction);

/// <summary>One step of the timeline.</summary>
/// <param name="Outcome"><c>running</c>, <c>succeeded</c>, <c>failed</c>, <c>stopped</c> (rejected, timed out, cancelled) or <c>compensated</c>.</param>
public sealed record TimelineStep(string Name, DateTime StartedAt, DateTime? EndedAt, string Outcome, string? Detail);

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
    public const string Approval = "await approval";
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
