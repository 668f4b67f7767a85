namespace RcmPitr.Workflow.Errors;

/// <summary>
/// A long step of a run was started again after too many starts that never ended: each was aborted by its host (on Azure
/// Functions, an activity still running at <c>functionTimeout</c>) and started again by the durable engine, which does
/// not limit that itself. It is not started again; the message names the settings to change.
/// </summary>
public sealed class StepRestartedTooOftenException(string runId, string step, int abortedStarts, int limit)
    : RcmPitrException(
        "step_restarted_too_often",
        $"{step} of run {runId} was started {abortedStarts} times without ever ending (at most {limit}, DataMover:MaxAbortedStarts): " +
        "its host aborted it each time — on Azure Functions an activity still running at functionTimeout (host.json) is aborted and " +
        "started again. It is not started again: give the step more time (functionTimeout, sized to this tenant's move) or find what " +
        "stops it, then start a new run")
{
    /// <summary>The run.</summary>
    public string RunId { get; } = runId;

    /// <summary>The step (activity name).</summary>
    public string Step { get; } = step;
}
