namespace RcmPitr.Workflow.Errors;

/// <summary>A prerequisite of the runbook is not met; every failed check is listed.</summary>
public sealed class PreflightFailedException(IReadOnlyList<string> problems)
    : RcmPitrException("preflight_failed", "Preflight failed: " + string.Join("; ", problems))
{
    /// <summary>Each failed check, written for an operator.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}
