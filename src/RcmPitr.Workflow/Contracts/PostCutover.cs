namespace RcmPitr.Workflow.Contracts;

/// <summary>
/// Input of the post-cutover check: the database the tenant now resolves to is reachable and its canary
/// counts equal the restored copy's counts measured before cutover.
/// </summary>
/// <param name="Database">The database now live (canonical after a swap, the suffixed one after a flip).</param>
/// <param name="ExpectedCounts">Canary table → count, from the parity probe's restored column.</param>
public sealed record VerifyCutoverInput(DbServerInfo Live, string Database, IReadOnlyDictionary<string, long> ExpectedCounts);

/// <summary>The counts found (equal to the expected ones; a mismatch fails the step).</summary>
public sealed record VerifyCutoverResult(string Database, IReadOnlyDictionary<string, long> Counts);

/// <summary>A message for the people who follow a tenant's restores (on-call channel, ticket).</summary>
public sealed record NotifyInput(string RunId, string Tenant, string Subject, string Body);

/// <summary>Input of the activity that starts the retention timer dropping the kept database later.</summary>
public sealed record ScheduleRetentionDropInput(string RunId, DbServerInfo Live, string Tenant, string Stamp, DateTime DropAfterUtc);

/// <summary>Input of the retention orchestration: wait until <see cref="DropAfterUtc"/>, then drop the kept database.</summary>
public sealed record RetentionDropRequest(string RunId, DbServerInfo Live, string Tenant, string Stamp, DateTime DropAfterUtc);
