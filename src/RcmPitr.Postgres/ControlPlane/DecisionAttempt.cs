namespace RcmPitr.Postgres.ControlPlane;

/// <summary>One approve/reject attempt on a run's approval gate, as the API received it.</summary>
/// <param name="Decision"><c>approve</c> or <c>reject</c>.</param>
/// <param name="Accepted">True for the one decision passed on to the run; false for a refused attempt.</param>
/// <param name="Note">Why it was refused (four eyes, role, already decided, not awaiting), or the decider's comment.</param>
public sealed record DecisionAttempt(
    string RunId, string PrincipalId, string PrincipalName, string Decision, bool Accepted, string? Note, DateTimeOffset AttemptedAt);
