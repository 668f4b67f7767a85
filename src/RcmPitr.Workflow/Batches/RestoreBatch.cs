using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Batches;

/// <summary>
/// A batch: many tenants restored (or dry-run, or copied as of T) to one restore time. Each tenant is its own restore run
/// (<see cref="BatchMember.RunId"/>, with its own status URL, freeze, approval, cutover and audit); the batch holds one
/// restored server per source server for its whole life, so every member of a source attaches to the same server and the
/// platform provisions it once.
/// </summary>
/// <param name="Members">The tenants, each with the id its run gets and the source server it was resolved to when the batch was accepted.</param>
/// <param name="Selector">How the tenants were chosen, as shown: <c>tenants</c> or <c>server:&lt;name&gt;</c>.</param>
public sealed record RestoreBatchRequest(
    IReadOnlyList<BatchMember> Members,
    DateTimeOffset RestoreTime,
    RestoreMode Mode,
    CutoverStrategy Strategy,
    string Reason,
    string RequestedBy,
    string Selector)
{
    /// <summary>The most tenants one batch takes: each member's line must fit the batch's published status.</summary>
    public const int MaxMembers = 50;

    /// <summary>How every member's database is moved.</summary>
    public TransferMode Transfer { get; init; } = TransferMode.Streaming;

    /// <summary>The requester's stable id (four eyes compares it, in every member run); null: <see cref="RequestedBy"/>.</summary>
    public string? RequestedById { get; init; }

    /// <summary>Members moving their database at once, at most (a member counts from its start until its copy is made).</summary>
    public int Parallelism { get; init; } = BatchSettings.DefaultParallelism;

    /// <summary>Every member run's settings.</summary>
    public RestoreSettings Settings { get; init; } = new();

    /// <summary>How often the batch looks at its members.</summary>
    public TimeSpan PollInterval { get; init; } = BatchSettings.DefaultPollInterval;

    /// <summary>How far the batch's look backs off (doubling) while its members change nothing.</summary>
    public TimeSpan MaxPollInterval { get; init; } = BatchSettings.DefaultMaxPollInterval;

    /// <summary>
    /// A restore drill (dry runs only): when every member has ended, the batch records each tenant's result — phases, sizes,
    /// parity, the check against a known-good reference, pass or fail — in the drill report.
    /// </summary>
    public bool Drill { get; init; }

    /// <summary>A drill's tenants that could not be taken when it started, and why (recorded as failed in its report).</summary>
    public IReadOnlyList<Drills.DrillSkip> Skipped { get; init; } = [];

    /// <summary>The id four eyes compares decisions against.</summary>
    public string RequesterId => RequestedById ?? RequestedBy;

    /// <summary>The restore request of one member run.</summary>
    public RestoreRequest RequestFor(BatchMember member, string batchId)
    {
        ArgumentNullException.ThrowIfNull(member);
        return new RestoreRequest(member.Tenant, RestoreTime, Mode, Strategy, $"{Reason} (batch {batchId})", RequestedBy)
        {
            Transfer = Transfer,
            Settings = Settings,
            RequestedById = RequestedById,
        };
    }
}

/// <summary>One tenant of a batch.</summary>
/// <param name="Server">The tenant's source server when the batch was accepted (members are grouped by it).</param>
public sealed record BatchMember(string Tenant, string RunId, string Server);

/// <summary>The batch settings of a host (section <c>Batch</c>).</summary>
public sealed record BatchSettings
{
    /// <summary>Default <see cref="Parallelism"/>.</summary>
    public const int DefaultParallelism = 2;

    /// <summary>The largest parallelism a request may ask for.</summary>
    public const int MaxParallelism = 16;

    /// <summary>Default <see cref="PollInterval"/>.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(15);

    /// <summary>Members moving their database at once when the request does not say.</summary>
    public int Parallelism { get; init; } = DefaultParallelism;

    /// <summary>How often a batch looks at its members (a durable timer each time).</summary>
    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    /// <summary>Default <see cref="MaxPollInterval"/>.</summary>
    public static readonly TimeSpan DefaultMaxPollInterval = TimeSpan.FromMinutes(5);

    /// <summary>While no member changes, the wait between looks doubles up to this, and goes back to <see cref="PollInterval"/> at any change.</summary>
    public TimeSpan MaxPollInterval { get; init; } = DefaultMaxPollInterval;
}

/// <summary>What a batch activity reads of one member run.</summary>
/// <param name="RuntimeStatus">The engine's status: Pending, Running, Completed, Failed, Terminated, or Missing (no such run).</param>
/// <param name="Step">The step the run is in (or ended in).</param>
/// <param name="Moved">True once the member's copy is made (its move step succeeded) or the run has ended: it no longer counts against the batch's parallelism.</param>
/// <param name="Parity">The parity verdict, once probed.</param>
/// <param name="Outcome">How the run ended (<see cref="RestoreOutcome"/>, or Failed / Terminated).</param>
/// <param name="Detail">The run's error, its outcome's detail or its operator action; never row data.</param>
public sealed record BatchMemberState(string RunId, string RuntimeStatus, string? Step, bool AwaitingApproval, bool Moved, string? Parity, string? Outcome, string? Detail)
{
    /// <summary>Whether the run has ended.</summary>
    public bool Ended => RuntimeStatus is "Completed" or "Failed" or "Terminated" or "Missing";
}

/// <summary>Input of the activity that starts one member run (a no-op when it exists).</summary>
public sealed record StartBatchMemberInput(string BatchId, string RunId, RestoreRequest Request);

/// <summary>What starting a member did.</summary>
/// <param name="Started">True when this call (or an earlier attempt of it) started the run.</param>
/// <param name="BusyWith">The run that holds the tenant when the member could not start; null otherwise.</param>
public sealed record StartBatchMemberResult(bool Started, string? BusyWith);

/// <summary>Input of the activity that reads member runs.</summary>
public sealed record ReadBatchMembersInput(string BatchId, IReadOnlyList<string> RunIds);

/// <summary>Input of the activity that asks member runs to stop.</summary>
public sealed record CancelBatchMembersInput(string BatchId, IReadOnlyList<string> RunIds, string RequestedBy, string? Reason);

/// <summary>A batch's published status: every member's line, the restored servers it holds, and counts.</summary>
/// <param name="Phase"><c>holding servers</c>, <c>running</c>, <c>cancelling</c>, <c>recording drill report</c>, <c>releasing servers</c>, <c>completed</c> or <c>failed</c>.</param>
/// <param name="MembersOmitted">Ended members left out of <paramref name="Members"/> to keep the status within its size budget (their own status URLs have them); null when none was.</param>
public sealed record RestoreBatchStatus(
    string Phase,
    string Mode,
    string Stamp,
    string Selector,
    int Parallelism,
    IReadOnlyList<BatchServerStatus> Servers,
    IReadOnlyList<BatchMemberStatus> Members,
    BatchCounts Counts,
    string? Error,
    string? OperatorAction,
    int? MembersOmitted = null);

/// <summary>A restored server the batch holds for its members.</summary>
/// <param name="State"><c>acquiring</c>, <c>held</c>, <c>failed</c> (could not be restored: its members did not start) or <c>released</c>.</param>
public sealed record BatchServerStatus(string Source, string RestoredServer, string State, string? Detail);

/// <summary>One member's line.</summary>
/// <param name="State"><c>waiting</c> (not started yet), <c>running</c>, <c>awaiting approval</c>, <c>succeeded</c>, <c>failed</c>, <c>stopped</c> (rejected, timed out, cancelled) or <c>not started</c>.</param>
public sealed record BatchMemberStatus(
    string Tenant,
    string RunId,
    string Server,
    string State,
    string? Step,
    string? Parity,
    string? Outcome,
    string? Detail,
    DateTime? StartedAt,
    DateTime? EndedAt)
{
    /// <summary>True once the member can change no more.</summary>
    public bool Final => State is BatchMemberStates.Succeeded or BatchMemberStates.Failed or BatchMemberStates.Stopped or BatchMemberStates.NotStarted;
}

/// <summary>Member states.</summary>
public static class BatchMemberStates
{
#pragma warning disable CS1591 // The names are their own documentation.
    public const string Waiting = "waiting";
    public const string Running = "running";
    public const string AwaitingApproval = "awaiting approval";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Stopped = "stopped";
    public const string NotStarted = "not started";
#pragma warning restore CS1591
}

/// <summary>How many members are in each state.</summary>
public sealed record BatchCounts(int Total, int Waiting, int Running, int AwaitingApproval, int Succeeded, int Failed, int Stopped, int NotStarted);

/// <summary>How a batch ended.</summary>
public enum BatchOutcome
{
    /// <summary>Every member did its job.</summary>
    Succeeded,

    /// <summary>Some members did their job, some did not (each was compensated on its own).</summary>
    PartlySucceeded,

    /// <summary>No member did its job.</summary>
    Failed,

    /// <summary>The batch was cancelled; its members stopped and undid what they did.</summary>
    Cancelled,
}

/// <summary>The batch's output.</summary>
public sealed record RestoreBatchResult(BatchOutcome Outcome, IReadOnlyList<BatchMemberStatus> Members, IReadOnlyList<BatchServerStatus> Servers, BatchCounts Counts, string Detail);
