using System.Net;
using System.Net.Sockets;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Functions.Composition;
using RcmPitr.Functions.Orchestrations;
using RcmPitr.Scenarios.Tests.Activities;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Scenarios.Tests.Engines;

/// <summary>
/// The real Durable Task SDK (worker and client over its in-process sidecar and in-memory backend). The orchestrators
/// are the Functions app's orchestrator triggers themselves (<see cref="OrchestratorFunctions"/>, which run the workflow
/// through <c>DurableContextAdapter</c>), under the names the app registers them, and every payload goes through the
/// app's serializer settings.
/// </summary>
public sealed class DurableTaskSdkScenarioEngine(DurableTaskTestHost host) : ScenarioEngine
{
    public static async Task<ScenarioEngine> StartAsync(FakeActivities activities)
    {
        ArgumentNullException.ThrowIfNull(activities);
        var host = await DurableTaskTestHost.StartAsync(
            registry =>
            {
                // As the Functions host runs a trigger with an input parameter: the input deserialized as the parameter's
                // type by the configured converter. Lambdas, not method groups: the Durable analyzers fail on a method
                // group declared in another assembly.
                registry.AddOrchestratorFunc<RestoreRequest, RestoreResult>(RestoreTenantOrchestrator.Name, (context, input) => OrchestratorFunctions.RestoreTenant(context, input));
                registry.AddOrchestratorFunc<RestoreRequest, RestoreResult>(RestoreTenantV2Orchestrator.Name, (context, input) => OrchestratorFunctions.RestoreTenantV2(context, input));
                registry.AddOrchestratorFunc<RollbackRequest, RestoreResult>(RollbackOrchestrator.Name, (context, input) => OrchestratorFunctions.RollbackRestore(context, input));
                registry.AddOrchestratorFunc<RetentionDropRequest, DropDerivedDatabaseResult>(RetentionDropOrchestrator.Name, (context, input) => OrchestratorFunctions.DropKeptDatabase(context, input));
                registry.AddOrchestratorFunc<RestoreBatchRequest, RestoreBatchResult>(RestoreBatchOrchestrator.Name, (context, input) => OrchestratorFunctions.RestoreBatch(context, input));
                registry.AddOrchestratorFunc<Workflow.Recoveries.RecoverServerRequest, Workflow.Recoveries.RecoverServerResult>(Workflow.Recoveries.RecoverServerOrchestrator.Name, (context, input) => OrchestratorFunctions.RecoverServer(context, input));
                activities.RegisterOn(registry);
            },
            new DurableTaskTestHostOptions
            {
                // A port the system just handed out, rather than the host's random pick from a fixed range.
                Port = FreeLoopbackPort(),
                ConfigureServices = services => services.AddSingleton<DataConverter>(new AppSerializerDataConverter(FunctionsServices.Json)),
            });
        return new DurableTaskSdkScenarioEngine(host);
    }

    public override Task StartAsync(string orchestrator, string instanceId, object input) =>
        host.Client.ScheduleNewOrchestrationInstanceAsync(orchestrator, input, new StartOrchestrationOptions(instanceId));

    public override Task RaiseEventAsync(string instanceId, string eventName, object payload) =>
        host.Client.RaiseEventAsync(instanceId, eventName, payload);

    public override async Task<RunSnapshot?> GetAsync(string instanceId)
    {
        var instance = await host.Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
        return instance is null ? null : new RunSnapshot(
            instance.RuntimeStatus switch
            {
                OrchestrationRuntimeStatus.Pending => RunState.Pending,
                OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended => RunState.Running,
                OrchestrationRuntimeStatus.Completed => RunState.Completed,
                OrchestrationRuntimeStatus.Failed => RunState.Failed,
                _ => RunState.Terminated,
            },
            instance.SerializedCustomStatus,
            instance.SerializedOutput,
            instance.FailureDetails?.ErrorType,
            instance.FailureDetails?.ErrorMessage);
    }

    public override ValueTask DisposeAsync() => host.DisposeAsync();

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
