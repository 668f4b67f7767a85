namespace RcmPitr.Api;

/// <summary>The body of <c>POST /api/restores/{id}/rollback</c>.</summary>
/// <param name="Override">Skip the second person's approval: only for a principal with the operator role, and audited.</param>
public sealed record RollbackBody(string? Reason, bool? Override = null);
