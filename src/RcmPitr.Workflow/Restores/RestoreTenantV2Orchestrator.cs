using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// Version 2 of <see cref="RestoreTenantOrchestrator"/>, kept registered until the runs it started have drained (ADR 0008): the
/// same runbook without V3's change report and approvers' notification, so a V2 run's history replays step for step.
/// </summary>
public sealed class RestoreTenantV2Orchestrator
{
    /// <summary>The registered name of V2's runs.</summary>
    public const string Name = "RestoreTenantV2";

    /// <summary>Runs (or resumes) a V2 run.</summary>
    public Task<RestoreResult> RunAsync(IOrchestrationContext context, RestoreRequest request) => new RestoreTenantOrchestrator(version: 2).RunAsync(context, request);
}
