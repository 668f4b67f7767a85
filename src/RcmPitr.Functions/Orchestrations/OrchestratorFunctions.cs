using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Orchestrations;

/// <summary>
/// The orchestrator triggers: each wraps a workflow orchestrator through <see cref="DurableContextAdapter"/>. The input
/// is a parameter, so Durable deserializes it as its declared type with the worker's serializer (camelCase, enums as
/// strings), the serializer that stored it. <c>GetInput&lt;T&gt;()</c> would not: the extension converts the untyped
/// input with the worker's global <c>JsonSerializerOptions</c>, which know nothing of string enums, and every run would
/// fail on its first line.
/// </summary>
public static class OrchestratorFunctions
{
    /// <summary>The restore (and dry run, and snapshot).</summary>
    [Function(RestoreTenantOrchestrator.Name)]
    public static Task<RestoreResult> RestoreTenant([OrchestrationTrigger] TaskOrchestrationContext context, RestoreRequest? request)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RestoreTenantOrchestrator().RunAsync(new DurableContextAdapter(context), Required(context, request));
    }

    /// <summary>Runs started by the previous version, until they have drained (ADR 0008).</summary>
    [Function(RestoreTenantV2Orchestrator.Name)]
    public static Task<RestoreResult> RestoreTenantV2([OrchestrationTrigger] TaskOrchestrationContext context, RestoreRequest? request)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RestoreTenantV2Orchestrator().RunAsync(new DurableContextAdapter(context), Required(context, request));
    }

    /// <summary>The rollback of a swap-and-keep cutover.</summary>
    [Function(RollbackOrchestrator.Name)]
    public static Task<RestoreResult> RollbackRestore([OrchestrationTrigger] TaskOrchestrationContext context, RollbackRequest? request)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RollbackOrchestrator().RunAsync(new DurableContextAdapter(context), Required(context, request));
    }

    /// <summary>The retention timer that drops the kept database.</summary>
    [Function(RetentionDropOrchestrator.Name)]
    public static Task<DropDerivedDatabaseResult> DropKeptDatabase([OrchestrationTrigger] TaskOrchestrationContext context, RetentionDropRequest? request)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RetentionDropOrchestrator().RunAsync(new DurableContextAdapter(context), Required(context, request));
    }

    /// <summary>A batch: many tenants to one restore time, one restored server per source server.</summary>
    [Function(RestoreBatchOrchestrator.Name)]
    public static Task<RestoreBatchResult> RestoreBatch([OrchestrationTrigger] TaskOrchestrationContext context, RestoreBatchRequest? request)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RestoreBatchOrchestrator().RunAsync(new DurableContextAdapter(context), Required(context, request));
    }

    /// <summary>Region loss: every tenant of a lost server re-pointed to its geo-restore, after one approval.</summary>
    [Function(Workflow.Recoveries.RecoverServerOrchestrator.Name)]
    public static Task<Workflow.Recoveries.RecoverServerResult> RecoverServer([OrchestrationTrigger] TaskOrchestrationContext context, Workflow.Recoveries.RecoverServerRequest? request)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new Workflow.Recoveries.RecoverServerOrchestrator().RunAsync(new DurableContextAdapter(context), Required(context, request));
    }

    private static T Required<T>(TaskOrchestrationContext context, T? input)
        where T : class =>
        input ?? throw new InvalidOperationException($"Orchestration {context.InstanceId} has no {typeof(T).Name} input.");
}
