using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Orchestrations;

/// <summary>The orchestrator triggers: each wraps a workflow orchestrator through <see cref="DurableContextAdapter"/>.</summary>
public static class OrchestratorFunctions
{
    /// <summary>The restore (and dry run, and snapshot).</summary>
    [Function(RestoreTenantOrchestrator.Name)]
    public static Task<RestoreResult> RestoreTenant([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RestoreTenantOrchestrator().RunAsync(new DurableContextAdapter(context), Input<RestoreRequest>(context));
    }

    /// <summary>The rollback of a swap-and-keep cutover.</summary>
    [Function(RollbackOrchestrator.Name)]
    public static Task<RestoreResult> RollbackRestore([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RollbackOrchestrator().RunAsync(new DurableContextAdapter(context), Input<RollbackRequest>(context));
    }

    /// <summary>The retention timer that drops the kept database.</summary>
    [Function(RetentionDropOrchestrator.Name)]
    public static Task<DropDerivedDatabaseResult> DropKeptDatabase([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RetentionDropOrchestrator().RunAsync(new DurableContextAdapter(context), Input<RetentionDropRequest>(context));
    }

    private static T Input<T>(TaskOrchestrationContext context) =>
        context.GetInput<T>() ?? throw new InvalidOperationException($"Orchestration {context.InstanceId} has no {typeof(T).Name} input.");
}
