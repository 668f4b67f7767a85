using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Orchestration;
using WorkflowRetryPolicy = RcmPitr.Workflow.Orchestration.RetryPolicy;

namespace RcmPitr.Functions.Orchestrations;

/// <summary>
/// The workflow's <see cref="IOrchestrationContext"/> over Durable Functions' <see cref="TaskOrchestrationContext"/>:
/// the orchestrators written once run here unchanged. Retries become Durable retry policies that never retry
/// RcmPitr's deliberate refusals; a <see cref="TaskFailedException"/> becomes the workflow's
/// <see cref="ActivityFailedException"/>.
/// </summary>
internal sealed class DurableContextAdapter(TaskOrchestrationContext context) : IOrchestrationContext
{
    private const string RefusalNamespace = "RcmPitr.Workflow.Errors.";

    public string InstanceId => context.InstanceId;

    public DateTime CurrentUtcDateTime => context.CurrentUtcDateTime;

    public bool IsReplaying => context.IsReplaying;

    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input, WorkflowRetryPolicy? retry = null)
    {
        try
        {
            return await context.CallActivityAsync<TResult>(new TaskName(name), input, retry is null ? null : ToOptions(retry));
        }
        catch (TaskFailedException e)
        {
            var details = e.FailureDetails;
            var refusal = details.ErrorType.StartsWith(RefusalNamespace, StringComparison.Ordinal);
            // Durable builds failure details from the exception itself: redact here as the embedded engine does at its boundary.
            throw new ActivityFailedException(name, new ActivityFailureDetails(details.ErrorType, FailureText.Redact(details.ErrorMessage), refusal ? details.ErrorType[RefusalNamespace.Length..] : null));
        }
    }

    public Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken) => context.CreateTimer(fireAt, cancellationToken);

    public Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default) =>
        context.WaitForExternalEvent<T>(eventName, cancellationToken);

    public void SetCustomStatus(object? customStatus) => context.SetCustomStatus(customStatus);

    public Guid NewGuid() => context.NewGuid();

    public ILogger CreateReplaySafeLogger(string categoryName) => context.CreateReplaySafeLogger(categoryName);

    /// <summary>The workflow's retry policy as Durable's, refusals excluded.</summary>
    internal static TaskOptions ToOptions(WorkflowRetryPolicy retry) =>
        TaskOptions.FromRetryPolicy(new Microsoft.DurableTask.RetryPolicy(
            retry.MaxNumberOfAttempts,
            retry.FirstRetryInterval,
            retry.BackoffCoefficient,
            retry.MaxRetryInterval ?? TimeSpan.FromHours(1))
        {
            HandleFailure = IsRetryable,
        });

    /// <summary>Whether Durable may retry a failed activity: never one of RcmPitr's deliberate refusals.</summary>
    internal static bool IsRetryable(TaskFailureDetails failure) =>
        !failure.ErrorType.StartsWith(RefusalNamespace, StringComparison.Ordinal);
}
