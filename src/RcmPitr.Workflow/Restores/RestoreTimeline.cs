using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;

namespace RcmPitr.Workflow.Restores;

/// <summary>Builds <see cref="RestoreStatus"/> as a run progresses. Times come from the orchestration context.</summary>
internal sealed class RestoreTimeline(string tenant, string mode, string stamp)
{
    private readonly List<TimelineStep> _steps = [];
    private readonly List<DecisionRecord> _decisions = [];

    public ParityReport? Parity { get; set; }
    public ChangeSummary? Changes { get; set; }
    public bool AwaitingApproval { get; set; }
    public string Phase { get; set; } = "running";
    public string? Error { get; set; }
    public string? OperatorAction { get; set; }

    /// <summary>Records a failed attempt in the running step <paramref name="step"/>.</summary>
    public void Attempt(string step, StepAttempt attempt)
    {
        var index = _steps.FindLastIndex(s => s.Name == step && s.EndedAt is null);
        if (index >= 0)
        {
            _steps[index] = _steps[index] with { Attempts = [.. _steps[index].Attempts ?? [], attempt] };
        }
    }

    public void Decided(DecisionRecord decision) => _decisions.Add(decision);

    public void Start(string step, DateTime at) => _steps.Add(new TimelineStep(step, at, null, "running", null));

    public void End(string step, DateTime at, string outcome, string? detail)
    {
        var index = _steps.FindLastIndex(s => s.Name == step && s.EndedAt is null);
        if (index < 0)
        {
            _steps.Add(new TimelineStep(step, at, at, outcome, detail));
            return;
        }

        _steps[index] = _steps[index] with { EndedAt = at, Outcome = outcome, Detail = detail };
    }

    /// <summary>The status to publish, within <see cref="RestoreStatusBudget"/> (the full parity table stays in <see cref="Parity"/>).</summary>
    public RestoreStatus ToStatus() =>
        RestoreStatusBudget.Fit(new(tenant, mode, stamp, Phase, AwaitingApproval, _steps.ToList(), Parity, Error, OperatorAction, _decisions.Count == 0 ? null : _decisions.ToList(), Changes));
}
