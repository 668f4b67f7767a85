namespace RcmPitr.Api;

/// <summary>The body of <c>POST /api/restores</c>. Strings, so each field can be validated and named in errors.</summary>
public sealed record StartRestoreBody(string? Tenant, string? RestoreTime, string? Mode, string? Strategy, string? Reason);

/// <summary>The body of approve / reject.</summary>
public sealed record DecisionBody(string? Comment);

/// <summary>The body of cancel / rollback.</summary>
public sealed record ReasonBody(string? Reason);

/// <summary>Links returned when a run starts (Durable's "check status" payload, plus the approval endpoints).</summary>
public sealed record RunLinks(string Id, string StatusQueryGetUri, string ApproveUri, string RejectUri, string CancelUri, string RollbackUri);

/// <summary>The status-query shape (as Durable Functions returns it).</summary>
public sealed record RunStatus(
    string InstanceId,
    string Name,
    string RuntimeStatus,
    DateTime CreatedTime,
    DateTime LastUpdatedTime,
    object? Input,
    object? CustomStatus,
    object? Output);
