namespace RcmPitr.Workflow.Restores;

/// <summary>Roll back the cutover of run <see cref="RestoreRunId"/>.</summary>
/// <param name="RequestedBy">Who asked (shown and audited); <see cref="RequestedById"/> is what four eyes compares.</param>
public sealed record RollbackRequest(string RestoreRunId, string Tenant, DateTimeOffset RestoreTime, string Reason, string RequestedBy)
{
    /// <summary>The requester's stable id; null: the same as <see cref="RequestedBy"/>.</summary>
    public string? RequestedById { get; init; }

    /// <summary>How the restore cut over: a swap is swapped back, a flipped reference is pointed back.</summary>
    public CutoverStrategy Strategy { get; init; } = CutoverStrategy.SwapAndKeep;

    /// <summary>The live name the restore swapped under (its result's live database); null: the canonical name.</summary>
    public string? LiveDatabase { get; init; }

    /// <summary>
    /// An operator's override of the second person's approval: the rollback runs without waiting for a decision, and the
    /// override is recorded in the timeline and the audit row. Only a principal with the operator role may set it.
    /// </summary>
    public bool Override { get; init; }

    /// <summary>Timings (cache wait, approval timeout, retention of the parked database).</summary>
    public RestoreSettings Settings { get; init; } = new();
}
