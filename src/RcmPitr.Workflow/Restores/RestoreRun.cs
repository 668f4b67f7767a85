using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// The state of one restore run inside its orchestrator: the timeline it publishes, the compensations
/// registered before each forward step (run in reverse on failure), and the cancel request it watches.
/// Everything here is deterministic: it only uses the orchestration context.
/// </summary>
internal sealed class RestoreRun
{
    private readonly List<(string Name, Func<Task> Undo)> _compensations = [];
    private readonly Task<CancelRequest> _cancel;
    private bool _compensating;

    public RestoreRun(IOrchestrationContext context, RestoreRequest request)
    {
        Context = context;
        Request = request;
        Stamp = RestoreStamp.From(request.RestoreTime).Value;
        Timeline = new RestoreTimeline(request.Tenant, request.Mode.ToString(), Stamp);
        _cancel = context.WaitForExternalEvent<CancelRequest>(RestoreEvents.Cancel);
    }

    public IOrchestrationContext Context { get; }
    public RestoreRequest Request { get; }
    public RestoreSettings Settings => Request.Settings;
    public string Stamp { get; }
    public string RunId => Context.InstanceId;
    public RestoreTimeline Timeline { get; }
    public TenantInfo? Tenant { get; set; }
    public TenantInfo RequireTenant => Tenant ?? throw new InvalidOperationException("The tenant is not resolved yet.");

    /// <summary>Set when the cutover begins: from then on nothing is compensated automatically.</summary>
    public bool CutoverStarted { get; set; }

    public Task<T> CallAsync<T>(string activity, object input) =>
        Context.CallActivityAsync<T>(activity, input, RetryPolicy.Transient);

    /// <summary>Registers an undo before the step it undoes, so a crash right after the step still compensates it.</summary>
    public void OnFailure(string name, Func<Task> undo) => _compensations.Add((name, undo));

    public async Task<T> StepAsync<T>(string step, Func<Task<T>> action, Func<T, string?> detail)
    {
        ThrowIfCancelled();
        Timeline.Start(step, Context.CurrentUtcDateTime);
        Publish();
        try
        {
            var result = await action();
            Timeline.End(step, Context.CurrentUtcDateTime, "succeeded", detail(result));
            Publish();
            return result;
        }
        catch (RunStoppedException e)
        {
            Timeline.End(step, Context.CurrentUtcDateTime, "stopped", e.Message);
            Publish();
            throw;
        }
        catch (Exception e)
        {
            Timeline.End(step, Context.CurrentUtcDateTime, "failed", Describe(e));
            Publish();
            throw new StepFailedException(step, e);
        }
    }

    /// <summary>A durable wait that ends early, with a cancellation, when someone cancels the run.</summary>
    public async Task DelayAsync(TimeSpan delay)
    {
        using var timerCancellation = new CancellationTokenSource();
        var timer = Context.CreateTimer(Context.CurrentUtcDateTime.Add(delay), timerCancellation.Token);
        if (await Task.WhenAny(timer, _cancel) == _cancel)
        {
            timerCancellation.Cancel();
            ThrowIfCancelled();
        }
    }

    /// <summary>Waits for the approver, a cancel, or the timeout, whichever comes first.</summary>
    public async Task<ApprovalDecision> WaitForDecisionAsync(TimeSpan timeout)
    {
        using var timerCancellation = new CancellationTokenSource();
        using var eventCancellation = new CancellationTokenSource();
        var timer = Context.CreateTimer(Context.CurrentUtcDateTime.Add(timeout), timerCancellation.Token);
        var decision = Context.WaitForExternalEvent<ApprovalDecision>(RestoreEvents.Approval, eventCancellation.Token);
        var winner = await Task.WhenAny(decision, timer, _cancel);
        if (winner == decision)
        {
            timerCancellation.Cancel();
            return await decision;
        }

        eventCancellation.Cancel();
        if (winner == _cancel)
        {
            timerCancellation.Cancel();
            ThrowIfCancelled();
        }

        throw new RunStoppedException(RestoreOutcome.ApprovalTimedOut, $"no decision within {timeout}");
    }

    public void ThrowIfCancelled()
    {
        if (_cancel.IsCompletedSuccessfully && !CutoverStarted && !_compensating)
        {
            var request = _cancel.Result;
            throw new RunStoppedException(RestoreOutcome.Cancelled, $"cancelled by {request.RequestedBy}" + (request.Reason is null ? string.Empty : $": {request.Reason}"));
        }
    }

    /// <summary>Runs the registered compensations in reverse; returns the ones that failed.</summary>
    public async Task<List<string>> CompensateAsync()
    {
        // From here on the run is stopping anyway; a cancel request must not interrupt the clean-up.
        _compensating = true;
        var failures = new List<string>();
        for (var i = _compensations.Count - 1; i >= 0; i--)
        {
            var (name, undo) = _compensations[i];
            var step = "undo: " + name;
            Timeline.Start(step, Context.CurrentUtcDateTime);
            try
            {
                await undo();
                Timeline.End(step, Context.CurrentUtcDateTime, "compensated", null);
            }
            catch (Exception e)
            {
                Timeline.End(step, Context.CurrentUtcDateTime, "failed", Describe(e));
                failures.Add($"{name}: {Describe(e)}");
            }

            Publish();
        }

        return failures;
    }

    public void Publish() => Context.SetCustomStatus(Timeline.ToStatus());

    public static string Describe(Exception e) => e switch
    {
        StepFailedException s => Describe(s.InnerException!),
        ActivityFailedException a => a.Failure.ErrorMessage,
        _ => e.Message,
    };
}
