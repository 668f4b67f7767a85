using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using RcmPitr.Api;

namespace RcmPitr.Functions.Http;

/// <summary>
/// The API's runs on Durable Functions. Durable has no lock keys: a tenant's runs share the id prefix
/// <c>restore-&lt;slug&gt;-</c>, and a start is refused while one with that prefix is Pending or Running. (Two
/// starts in the same instant could both pass; the freeze step then refuses the second, since the tenant is
/// no longer active, and the markers on the databases keep the runs apart.)
/// </summary>
internal sealed class DurableRestoreRuns(DurableTaskClient client) : IRestoreRuns
{
    private static readonly OrchestrationRuntimeStatus[] Active = [OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended];

    public async Task StartAsync(string orchestrator, string instanceId, object input, string tenant, CancellationToken cancellationToken)
    {
        await foreach (var running in client.GetAllInstancesAsync(new OrchestrationQuery(Statuses: Active, InstanceIdPrefix: RestoreApiHandlers.RunIdPrefix(tenant))).WithCancellation(cancellationToken))
        {
            if (!running.InstanceId.EndsWith("-drop-kept", StringComparison.Ordinal))
            {
                throw new TenantBusyException(tenant, running.InstanceId);
            }
        }

        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is not null)
        {
            throw new RunExistsException(instanceId);
        }

        await client.ScheduleNewOrchestrationInstanceAsync(new TaskName(orchestrator), input, new StartOrchestrationOptions(instanceId), cancellationToken);
    }

    public async Task<RunInfo?> GetAsync(string instanceId, CancellationToken cancellationToken) =>
        await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken) is { } metadata ? ToRun(metadata) : null;

    public Task RaiseEventAsync(string instanceId, string eventName, object payload, CancellationToken cancellationToken) =>
        client.RaiseEventAsync(instanceId, eventName, payload, cancellationToken);

    public async Task<IReadOnlyList<RunInfo>> ListAsync(string? tenant, string? status, CancellationToken cancellationToken)
    {
        var statuses = status is null ? null : new[] { Enum.Parse<OrchestrationRuntimeStatus>(status) };
        var query = new OrchestrationQuery(Statuses: statuses, InstanceIdPrefix: tenant is null ? null : RestoreApiHandlers.RunIdPrefix(tenant), FetchInputsAndOutputs: true);
        var runs = new List<RunInfo>();
        await foreach (var metadata in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            runs.Add(ToRun(metadata));
            if (runs.Count == 100)
            {
                break;
            }
        }

        return runs.OrderByDescending(r => r.CreatedTime).ToList();
    }

    private static RunInfo ToRun(OrchestrationMetadata m) => new(
        m.InstanceId,
        m.Name,
        m.RuntimeStatus.ToString(),
        m.CreatedAt.UtcDateTime,
        m.LastUpdatedAt.UtcDateTime,
        Parse(m.SerializedInput),
        Parse(m.SerializedCustomStatus),
        Parse(m.SerializedOutput),
        m.FailureDetails?.ErrorMessage);

    private static JsonElement? Parse(string? json) => string.IsNullOrEmpty(json) ? null : JsonDocument.Parse(json).RootElement.Clone();
}
