namespace RcmPitr.Workflow.Drills;

/// <summary>
/// What a restore drill found for one tenant: a dry run (every step but freeze, approval and cutover) of the tenant to the
/// drill's restore time, on the restored server the drill shares per source server. Phase durations, sizes, parity, the
/// check of the as-of copy against a known-good reference, and pass or fail with the reason. Counts and names only: no row data.
/// </summary>
/// <param name="RunId">The tenant's dry-run run (its status has the full timeline).</param>
/// <param name="Seconds">From the run's start to its end.</param>
/// <param name="BytesMoved">Bytes the transfer moved into the as-of copy, when the transfer reported them.</param>
/// <param name="Parity">The parity verdict of the as-of copy against live (Pass, Warn, Fail), or null when not probed.</param>
/// <param name="Counts">Rows of each canary table in the as-of copy (from the parity probe).</param>
public sealed record DrillTenantResult(
    string Tenant,
    string RunId,
    string Server,
    bool Passed,
    string Reason,
    DateTime? StartedAt,
    DateTime? EndedAt,
    double? Seconds,
    IReadOnlyList<DrillPhase> Phases,
    long? BytesMoved,
    string? Parity,
    IReadOnlyList<DrillCount> Counts,
    DrillReference Reference);

/// <summary>One step of the tenant's dry run and how long it took.</summary>
public sealed record DrillPhase(string Name, double Seconds, string Outcome);

/// <summary>Rows of one table in the as-of copy.</summary>
public sealed record DrillCount(string Table, long? Rows);

/// <summary>
/// The as-of copy checked against a known-good reference. <see cref="Kind"/>: <c>same-time</c> (an earlier passed drill of the
/// same restore time: every count must be equal), <c>previous</c> (the last passed drill, of an earlier time: no canary table may
/// shrink below <c>Drills:MinRatioToPrevious</c> of it, nor empty), <c>expectation</c> (only configured bounds), or <c>none</c>
/// (nothing to compare with yet: this drill becomes the reference). Configured expectations (<c>Drills:Expectations</c>) are
/// checked with every kind.
/// </summary>
/// <param name="AgainstDrill">The drill compared with, for <c>same-time</c> and <c>previous</c>.</param>
public sealed record DrillReference(string Kind, string? AgainstDrill, bool Matched, string Detail);

/// <summary>A tenant a drill could not take when it started (busy with another run, unknown, outside retention), and why.</summary>
public sealed record DrillSkip(string Tenant, string Reason);

/// <summary>Input of the activity that records a drill's report when its members have ended.</summary>
/// <param name="Skipped">Tenants the drill could not take: each is recorded as failed, with why.</param>
public sealed record RecordDrillInput(string DrillId, DateTimeOffset RestoreTime, IReadOnlyList<DrillMemberEnd> Members, IReadOnlyList<DrillSkip>? Skipped = null);

/// <summary>How one member of a drill ended, as the batch saw it.</summary>
/// <param name="State">The batch's member state (succeeded, failed, stopped, not started).</param>
public sealed record DrillMemberEnd(string Tenant, string RunId, string Server, string State, string? Detail);

/// <summary>What recording a drill found: how many tenants passed and failed.</summary>
public sealed record RecordDrillResult(int Passed, int Failed);

/// <summary>A configured expectation of a tenant's table in every drill (<c>Drills:Expectations</c>).</summary>
public sealed record DrillExpectation
{
    /// <summary>The tenant's slug.</summary>
    public string Tenant { get; init; } = string.Empty;

    /// <summary>The table, <c>schema.table</c> (one of the canary tables).</summary>
    public string Table { get; init; } = string.Empty;

    /// <summary>The fewest rows the as-of copy may hold; null: no lower bound.</summary>
    public long? MinRows { get; init; }

    /// <summary>The most rows the as-of copy may hold; null: no upper bound.</summary>
    public long? MaxRows { get; init; }
}

/// <summary>How drills judge the as-of copy (section <c>Drills</c>).</summary>
public sealed record DrillOptions
{
    /// <summary>The section name.</summary>
    public const string Section = "Drills";

    /// <summary>Against the last passed drill of an earlier time, the smallest share of each canary table's rows the copy may hold (default 0.5).</summary>
    public double MinRatioToPrevious { get; init; } = 0.5;

    /// <summary>Configured bounds per tenant and table.</summary>
    public IReadOnlyList<DrillExpectation> Expectations { get; init; } = [];
}
