namespace RcmPitr.Workflow.Restores;

/// <summary>
/// The run failed. The message names the step and why; <see cref="OperatorAction"/> says what a person must
/// do when the run could not make everything safe by itself (a half-done cutover).
/// </summary>
public sealed class RestoreFailedException(string step, string reason, string? operatorAction = null)
    : Exception($"Step '{step}' failed: {reason}" + (operatorAction is null ? string.Empty : $" Operator action: {operatorAction}"))
{
    /// <summary>The step that failed.</summary>
    public string Step { get; } = step;

    /// <summary>Why.</summary>
    public string Reason { get; } = reason;

    /// <summary>What an operator must do, if anything.</summary>
    public string? OperatorAction { get; } = operatorAction;
}

/// <summary>A step failed; carries which one to the compensation logic.</summary>
internal sealed class StepFailedException(string step, Exception inner) : Exception(inner.Message, inner)
{
    public string Step { get; } = step;
}

/// <summary>The run stops for an expected reason (rejected, timed out, cancelled) and compensates.</summary>
internal sealed class RunStoppedException(RestoreOutcome outcome, string detail) : Exception(detail)
{
    public RestoreOutcome Outcome { get; } = outcome;
}
