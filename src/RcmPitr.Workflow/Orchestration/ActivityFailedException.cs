namespace RcmPitr.Workflow.Orchestration;

/// <summary>An activity failed (after its retries); the orchestrator sees this, like Durable's <c>TaskFailedException</c>.</summary>
public sealed class ActivityFailedException(string activityName, ActivityFailureDetails failure)
    : Exception($"Activity '{activityName}' failed: {failure?.ErrorMessage}")
{
    /// <summary>The activity's name.</summary>
    public string ActivityName { get; } = activityName;

    /// <summary>What went wrong.</summary>
    public ActivityFailureDetails Failure { get; } = failure ?? throw new ArgumentNullException(nameof(failure));
}
