using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Functions.Activities;

/// <summary>
/// Starts an orchestration through Durable's client unless the id exists (so a retried activity starts it once), and
/// stops one if it is still active.
/// </summary>
internal sealed class DurableOrchestrationStarter(DurableTaskClient client) : IOrchestrationStarter, IOrchestrationTerminator
{
    public async Task<bool> TerminateIfActiveAsync(string instanceId, string reason, CancellationToken cancellationToken)
    {
        var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
        if (instance is not { RuntimeStatus: OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended })
        {
            return false;
        }

        await client.TerminateInstanceAsync(instanceId, reason, cancellationToken);
        return true;
    }

    public async Task<bool> StartIfAbsentAsync(string orchestratorName, string instanceId, object input, CancellationToken cancellationToken)
    {
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is not null)
        {
            return false;
        }

        await client.ScheduleNewOrchestrationInstanceAsync(new TaskName(orchestratorName), input, new StartOrchestrationOptions(instanceId), cancellationToken);
        return true;
    }
}
