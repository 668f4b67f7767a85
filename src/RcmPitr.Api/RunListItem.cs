namespace RcmPitr.Api;

/// <summary>
/// A row of <c>GET /api/restores</c>: the status-query fields plus what a person scanning the list needs — the tenant,
/// what kind of run it is, the restore time and how it ended.
/// </summary>
/// <param name="Kind"><c>restore</c>, <c>dry-run</c>, <c>snapshot</c>, <c>rollback</c> or <c>retention</c> (a kept database's drop timer).</param>
/// <param name="Outcome">How the run ended (<c>Restored</c>, <c>Rejected</c>, …, or <c>Failed</c>); null while it runs.</param>
public sealed record RunListItem(
    string InstanceId,
    string Name,
    string RuntimeStatus,
    DateTime CreatedTime,
    DateTime LastUpdatedTime,
    string? Tenant,
    string Kind,
    DateTimeOffset? RestoreTime,
    string? Outcome,
    object? Input,
    object? CustomStatus,
    object? Output);
