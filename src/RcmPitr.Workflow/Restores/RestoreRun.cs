using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Identity;
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
    private readonly List<(string Name, Func<Task<string?>> Undo)> _compensations = [];
    private readonly Stack<string> _steps = new();
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

    /// <summary>
    /// Calls an activity, retrying transient failures on durable timers (<see cref="RestoreSettings.RetryPolicy"/>; refusals
    /// are never retried). The retries happen here rather than in the engine so every failed attempt and its reason shows in
    /// the running step of the timeline, the same on every engine.
    /// </summary>
    public async Task<T> CallAsync<T>(string activity, object input)
    {
        var retry = Settings.RetryPolicy();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await Context.CallActivityAsync<T>(activity, input);
            }
            catch (ActivityFailedException e) when (attempt < retry.MaxNumberOfAttempts && RetryPolicy.IsRetryable(e.Failure))
            {
                var retryAt = Context.CurrentUtcDateTime.Add(retry.DelayBefore(attempt + 1));
                if (_steps.TryPeek(out var step))
                {
                    Timeline.Attempt(step, new StepAttempt(attempt, activity, Context.CurrentUtcDateTime, e.Failure.ErrorMessage, retryAt));
                    Publish();
                }

                await WaitUntilAsync(retryAt);
            }
        }
    }

    /// <summary>
    /// Registers an undo before the step it undoes, so a crash right after the step still compensates it. The undo
    /// returns what it found or did (shown in the timeline), e.g. that there was nothing of this run's to undo.
    /// </summary>
    public void OnFailure(string name, Func<Task<string?>> undo) => _compensations.Add((name, undo));

    public async Task<T> StepAsync<T>(string step, Func<Task<T>> action, Func<T, string?> detail)
    {
        ThrowIfCancelled();
        Timeline.Start(step, Context.CurrentUtcDateTime);
        Publish();
        _steps.Push(step);
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
        finally
        {
            _steps.Pop();
        }
    }

    /// <summary>
    /// A step that informs and does not gate the run: when it fails (after its activity's retries) the timeline shows the failed
    /// step and the run goes on. A cancel still stops the run.
    /// </summary>
    public async Task InformAsync<T>(string step, Func<Task<T>> action, Func<T, string?> detail)
    {
        try
        {
            await StepAsync(step, action, detail);
        }
        catch (StepFailedException)
        {
            // Recorded as the failed step.
        }
    }

    /// <summary>Runbook step 1's wait after a freeze: one status-cache TTL, so every cache has seen the tenant frozen.</summary>
    public Task<TimeSpan> WaitForStatusCachesAsync() => StepAsync(
        RestoreSteps.CacheWait,
        async () =>
        {
            await DelayAsync(Settings.StatusCacheTtl);
            return Settings.StatusCacheTtl;
        },
        ttl => $"{ttl.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s");

    /// <summary>A durable wait that ends early, with a cancellation, when someone cancels the run.</summary>
    public Task DelayAsync(TimeSpan delay) => WaitUntilAsync(Context.CurrentUtcDateTime.Add(delay));

    /// <summary>
    /// Waits for the approver, a cancel, or the timeout, whichever comes first. A decision by the requester is refused
    /// here — whatever path raised it, the API or the engine's event store — recorded in the timeline, and the wait goes
    /// on (against the same deadline). Every decision received is recorded.
    /// </summary>
    public async Task<ApprovalDecision> WaitForDecisionAsync(TimeSpan timeout)
    {
        using var timerCancellation = new CancellationTokenSource();
        var timer = Context.CreateTimer(Context.CurrentUtcDateTime.Add(timeout), timerCancellation.Token);
        Timeline.AwaitingApproval = true;
        Publish();
        try
        {
            while (true)
            {
                using var eventCancellation = new CancellationTokenSource();
                var decision = Context.WaitForExternalEvent<ApprovalDecision>(RestoreEvents.Approval, eventCancellation.Token);
                var winner = await Task.WhenAny(decision, timer, _cancel);
                if (winner != decision)
                {
                    eventCancellation.Cancel();
                    if (winner == _cancel)
                    {
                        timerCancellation.Cancel();
                        ThrowIfCancelled();
                    }

                    throw new RunStoppedException(RestoreOutcome.ApprovalTimedOut, $"no decision within {timeout}");
                }

                var received = await decision;
                var verb = received.Approved ? "approve" : "reject";
                if (PrincipalIds.Same(received.DeciderId, Request.RequesterId))
                {
                    Timeline.Decided(new DecisionRecord(received.TimedAt(Context.CurrentUtcDateTime), received.DecidedBy, verb, Accepted: false,
                        $"refused: {received.DecidedBy} requested this run; four eyes need a second person"));
                    Publish();
                    continue;
                }

                timerCancellation.Cancel();
                Timeline.Decided(new DecisionRecord(received.TimedAt(Context.CurrentUtcDateTime), received.DecidedBy, verb, Accepted: true, received.Comment));
                return received;
            }
        }
        finally
        {
            Timeline.AwaitingApproval = false;
            Publish();
        }
    }

    /// <summary>An operator's override of the approval gate, recorded as a decision in the timeline.</summary>
    public ApprovalDecision Override()
    {
        Timeline.Decided(new DecisionRecord(Context.CurrentUtcDateTime, Request.RequestedBy, "override", Accepted: true, $"operator override: {Request.Reason}"));
        return new ApprovalDecision(true, Request.RequestedBy, "operator override", Request.RequesterId);
    }

    /// <summary>A durable wait until <paramref name="at"/>; a cancel ends it early unless the run can no longer be cancelled.</summary>
    private async Task WaitUntilAsync(DateTime at)
    {
        using var timerCancellation = new CancellationTokenSource();
        var timer = Context.CreateTimer(at, timerCancellation.Token);
        if (CutoverStarted || _compensating)
        {
            await timer;
            return;
        }

        if (await Task.WhenAny(timer, _cancel) == _cancel)
        {
            timerCancellation.Cancel();
            ThrowIfCancelled();
        }
    }

    /// <summary>
    /// The last step before a cutover: the tenant must still be frozen by this run (a write made after someone lifted the
    /// freeze would be moved aside), and no cancel may have arrived. Past it, the cutover has started.
    /// </summary>
    public async Task ConfirmFreezeBeforeCutoverAsync()
    {
        var tenant = RequireTenant;
        await StepAsync(
            RestoreSteps.ConfirmFreeze,
            () => CallAsync<ConfirmFreezeResult>(ActivityNames.ConfirmFreeze, new ConfirmFreezeInput(RunId, tenant.TenantId)),
            f => $"read_only by this run since {f.FrozenAt.UtcDateTime:O}");
        ThrowIfCancelled();
        CutoverStarted = true;
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
            Publish();
            _steps.Push(step);
            try
            {
                var note = await undo();
                Timeline.End(step, Context.CurrentUtcDateTime, "compensated", note);
            }
            catch (Exception e)
            {
                Timeline.End(step, Context.CurrentUtcDateTime, "failed", Describe(e));
                failures.Add($"{name}: {Describe(e)}");
            }
            finally
            {
                _steps.Pop();
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
