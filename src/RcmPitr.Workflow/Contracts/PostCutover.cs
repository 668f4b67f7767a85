namespace RcmPitr.Workflow.Contracts;

/// <summary>
/// Input of the post-cutover check: the database the tenant now resolves to is reachable and its canary
/// counts equal the restored copy's counts measured before cutover.
/// </summary>
/// <param name="Database">The database now live (canonical after a swap, the suffixed one after a flip).</param>
/// <param name="ExpectedCounts">Canary table → count, from the parity probe's restored column.</param>
public sealed record VerifyCutoverInput(DbServerInfo Live, string Database, IReadOnlyDictionary<string, long> ExpectedCounts);

/// <summary>The counts found (equal to the expected ones; a mismatch fails the step).</summary>
public sealed record VerifyCutoverResult(string Database, IReadOnlyDictionary<string, long> Counts)
{
    /// <summary>The application role the configured smoke probe signed in as and ran its query; null: no probe configured.</summary>
    public string? SignedInAs { get; init; }
}

/// <summary>A message for the people who follow a tenant's restores (on-call channel, ticket).</summary>
public sealed record NotifyInput(string RunId, string Tenant, string Subject, string Body)
{
    /// <summary>What the message announces (<see cref="NotifyEvents"/>); null (as V2 runs send it): <see cref="NotifyEvents.Restored"/>.</summary>
    public string? Event { get; init; }
}

/// <summary>The events the workflow's notify activity announces; the others come from a run's final audit row.</summary>
public static class NotifyEvents
{
    /// <summary>The run waits for a second person's decision (the message carries the links to decide).</summary>
    public const string AwaitingApproval = "awaiting_approval";

    /// <summary>The restored copy is live.</summary>
    public const string Restored = "restored";
}

/// <summary>Input of the activity that starts the retention timer dropping a kept (or parked) database later.</summary>
/// <param name="RunId">The restore run that kept the database (its marker names this run).</param>
/// <param name="Kind"><see cref="DerivedDatabaseKind.PrePitr"/> after a swap, <see cref="DerivedDatabaseKind.Rollback"/> after a rollback.</param>
/// <param name="LiveDatabase">The tenant's live name the database is kept beside; null: the canonical one.</param>
public sealed record ScheduleRetentionDropInput(
    string RunId, DbServerInfo Live, string Tenant, string Stamp, DateTime DropAfterUtc, DerivedDatabaseKind Kind = DerivedDatabaseKind.PrePitr, string? LiveDatabase = null);

/// <summary>Input of the retention orchestration: wait until <see cref="DropAfterUtc"/>, then drop the kept (or parked) database.</summary>
public sealed record RetentionDropRequest(
    string RunId, DbServerInfo Live, string Tenant, string Stamp, DateTime DropAfterUtc, DerivedDatabaseKind Kind = DerivedDatabaseKind.PrePitr, string? LiveDatabase = null);
