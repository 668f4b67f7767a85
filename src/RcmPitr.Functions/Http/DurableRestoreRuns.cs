using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using RcmPitr.Api;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Batches;

namespace RcmPitr.Functions.Http;

/// <summary>
/// The API's runs on Durable Functions. Durable has no lock keys, so one run per tenant is a row in the master database
/// (<see cref="TenantRunLock"/>): a start claims the tenant atomically, taking it over only from a run that has ended —
/// two starts in the same instant can never both pass. A tenant's runs share the id prefix <c>restore-&lt;slug&gt;--</c>
/// (slugs never contain <c>--</c>), which lists them.
/// </summary>
internal sealed class DurableRestoreRuns(DurableTaskClient client, TenantRunLock tenantRuns) : IRestoreRuns
{
    private const int ListLimit = 100;

    public async Task StartAsync(string orchestrator, string instanceId, object input, string tenant, CancellationToken cancellationToken)
    {
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is not null)
        {
            throw new RunExistsException(instanceId);
        }

        if (await tenantRuns.TryClaimAsync(tenant, instanceId, IsActiveAsync, cancellationToken) is { } holder)
        {
            throw new TenantBusyException(tenant, holder);
        }

        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(new TaskName(orchestrator), input, new StartOrchestrationOptions(instanceId), cancellationToken);
        }
        catch
        {
            await tenantRuns.ReleaseAsync(tenant, instanceId, CancellationToken.None);
            throw;
        }

        async Task<bool> IsActiveAsync(string runId) =>
            await client.GetInstanceAsync(runId, getInputsAndOutputs: false, cancellationToken) is { } holderRun && IsActive(holderRun.RuntimeStatus);
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
        }

        // Newest first over everything the query returned, then the limit.
        return runs.OrderByDescending(r => r.CreatedTime).Take(ListLimit).ToList();
    }

    public async Task StartBatchAsync(string instanceId, object input, CancellationToken cancellationToken)
    {
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is not null)
        {
            throw new RunExistsException(instanceId);
        }

        await client.ScheduleNewOrchestrationInstanceAsync(new TaskName(RestoreBatchOrchestrator.Name), input, new StartOrchestrationOptions(instanceId), cancellationToken);
    }

    public Task<IReadOnlyList<RunInfo>> ListBatchesAsync(string idPrefix, CancellationToken cancellationToken) =>
        ListOfAsync(RestoreBatchOrchestrator.Name, idPrefix, cancellationToken);

    // Durable has no lock keys: one active recovery per server is checked before the start (ids are recovery-<server>-<stamp>-<tag>);
    // two starts in the same instant could both pass, and would then both freeze tenants, where the second's freezes are refused.
    public async Task StartRecoveryAsync(string instanceId, object input, string server, CancellationToken cancellationToken)
    {
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is not null)
        {
            throw new RunExistsException(instanceId);
        }

        var query = new OrchestrationQuery(InstanceIdPrefix: $"{Api.Recoveries.ServerRecoveryHandlers.IdPrefix}{server}-", FetchInputsAndOutputs: false);
        await foreach (var metadata in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            if (metadata.Name == Workflow.Recoveries.RecoverServerOrchestrator.Name && IsActive(metadata.RuntimeStatus))
            {
                throw new Api.Recoveries.ServerRecoveryBusyException(server, metadata.InstanceId);
            }
        }

        await client.ScheduleNewOrchestrationInstanceAsync(new TaskName(Workflow.Recoveries.RecoverServerOrchestrator.Name), input, new StartOrchestrationOptions(instanceId), cancellationToken);
    }

    public Task<IReadOnlyList<RunInfo>> ListRecoveriesAsync(CancellationToken cancellationToken) =>
        ListOfAsync(Workflow.Recoveries.RecoverServerOrchestrator.Name, Api.Recoveries.ServerRecoveryHandlers.IdPrefix, cancellationToken);

    // The runs of one orchestrator whose ids start with a prefix (Durable queries by prefix, not by name), newest first.
    private async Task<IReadOnlyList<RunInfo>> ListOfAsync(string orchestrator, string idPrefix, CancellationToken cancellationToken)
    {
        var query = new OrchestrationQuery(InstanceIdPrefix: idPrefix, FetchInputsAndOutputs: true);
        var runs = new List<RunInfo>();
        await foreach (var metadata in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            if (metadata.Name == orchestrator)
            {
                runs.Add(ToRun(metadata));
            }
        }

        return runs.OrderByDescending(r => r.CreatedTime).Take(ListLimit).ToList();
    }

    private static bool IsActive(OrchestrationRuntimeStatus status) =>
        status is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended;

    private static RunInfo ToRun(OrchestrationMetadata m) => new(
        m.InstanceId,
        m.Name,
        IsActive(m.RuntimeStatus) && m.RuntimeStatus == OrchestrationRuntimeStatus.Suspended ? "Running" : m.RuntimeStatus.ToString(),
        m.CreatedAt.UtcDateTime,
        m.LastUpdatedAt.UtcDateTime,
        Parse(m.SerializedInput),
        Parse(m.SerializedCustomStatus),
        Parse(m.SerializedOutput),
        m.FailureDetails?.ErrorMessage);

    private static JsonElement? Parse(string? json) => string.IsNullOrEmpty(json) ? null : JsonDocument.Parse(json).RootElement.Clone();
}
