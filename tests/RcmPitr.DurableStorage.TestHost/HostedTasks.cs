using Microsoft.DurableTask;
using RcmPitr.Functions.Orchestrations;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.DurableStorage.TestHost;

/// <summary>What this host runs: the Functions app's restore orchestrator trigger, and stub activities.</summary>
public static class HostedTasks
{
    public static DurableTaskRegistry Register(DurableTaskRegistry registry, ActivityLog log)
    {
        registry.AddOrchestratorFunc<RestoreRequest, RestoreResult>(RestoreTenantOrchestrator.Name, RestoreTenant);
        return StubActivities.Register(registry, log);
    }

    /// <summary>
    /// The app's orchestrator trigger itself, so RestoreTenantOrchestrator runs through DurableContextAdapter as in Azure, with
    /// its request deserialized to the type the orchestrator is registered with, as Durable binds the trigger's parameter.
    /// </summary>
    private static Task<RestoreResult> RestoreTenant(TaskOrchestrationContext context, RestoreRequest input) => OrchestratorFunctions.RestoreTenant(context, input);
}
