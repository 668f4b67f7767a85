using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Functions.Activities;

/// <summary>Starts an orchestration through Durable's client unless the id exists (so a retried activity starts it once).</summary>
internal sealed class DurableOrchestrationStarter(DurableTaskClient client) : IOrchestrationStarter
{
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
