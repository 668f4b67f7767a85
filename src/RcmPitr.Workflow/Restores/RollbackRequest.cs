namespace RcmPitr.Workflow.Restores;

/// <summary>Roll back the swap-and-keep cutover of run <see cref="RestoreRunId"/>.</summary>
public sealed record RollbackRequest(string RestoreRunId, string Tenant, DateTimeOffset RestoreTime, string Reason, string RequestedBy);
