using System.Text.Json;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Api.Batches;

/// <summary>
/// The batch's activities: they start, read and stop member runs through the same <see cref="IRestoreRuns"/> the API uses,
/// so a member is started under the same one-run-per-tenant rule as a run started by hand, and read as its status shows it.
/// Each is idempotent: a member run's id is fixed by the batch, a start of an existing id starts nothing, a cancel of an
/// ended run does nothing.
/// </summary>
public sealed class BatchActivities(IRestoreRuns runs)
{
    /// <summary>Starts one member run unless it exists; a tenant held by another run is reported, not waited for.</summary>
    public async Task<StartBatchMemberResult> StartMember(StartBatchMemberInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        RunIds.Require(input.BatchId);
        var runId = RunIds.Require(input.RunId);
        if (await runs.GetAsync(runId, cancellationToken) is not null)
        {
            return new StartBatchMemberResult(Started: true, BusyWith: null);
        }

        try
        {
            await runs.StartAsync(RestoreTenantOrchestrator.Name, runId, input.Request, input.Request.Tenant, cancellationToken);
            return new StartBatchMemberResult(Started: true, BusyWith: null);
        }
        catch (RunExistsException)
        {
            return new StartBatchMemberResult(Started: true, BusyWith: null);
        }
        catch (TenantBusyException e) when (e.RunningInstanceId != runId)
        {
            return new StartBatchMemberResult(Started: false, BusyWith: e.RunningInstanceId);
        }
        catch (TenantBusyException)
        {
            return new StartBatchMemberResult(Started: true, BusyWith: null);
        }
    }

    /// <summary>Reads member runs as their status shows them.</summary>
    public async Task<IReadOnlyList<BatchMemberState>> ReadMembers(ReadBatchMembersInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var states = new List<BatchMemberState>(input.RunIds.Count);
        foreach (var id in input.RunIds)
        {
            states.Add(await runs.GetAsync(RunIds.Require(id), cancellationToken) is { } run
                ? StateOf(run)
                : new BatchMemberState(id, "Missing", null, false, false, null, null, null));
        }

        return states;
    }

    /// <summary>Asks every member still active to stop (each undoes what it did); returns how many were asked.</summary>
    public async Task<int> CancelMembers(CancelBatchMembersInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var asked = 0;
        foreach (var id in input.RunIds)
        {
            if (await runs.GetAsync(RunIds.Require(id), cancellationToken) is { IsActive: true })
            {
                try
                {
                    await runs.RaiseEventAsync(id, RestoreEvents.Cancel, new CancelRequest(input.RequestedBy, input.Reason), cancellationToken);
                    asked++;
                }
                catch (InvalidOperationException)
                {
                    // It ended meanwhile.
                }
            }
        }

        return asked;
    }

    /// <summary>A member's state from its run: the step it is in, whether its copy is made, parity, and how it ended.</summary>
    public static BatchMemberState StateOf(RunInfo run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var status = ApiJson.Read<RestoreStatus>(run.CustomStatus is { ValueKind: JsonValueKind.Object } ? run.CustomStatus : null);
        var result = run.RuntimeStatus == "Completed" ? ApiJson.Read<RestoreResult>(run.Output is { ValueKind: JsonValueKind.Object } ? run.Output : null) : null;
        var step = status?.Steps.LastOrDefault(s => !s.Name.StartsWith("undo: ", StringComparison.Ordinal))?.Name ?? status?.Steps.LastOrDefault()?.Name;
        var moved = !run.IsActive || status?.Steps.Any(s => s.Outcome == "succeeded" && s.Name is RestoreSteps.Transfer or RestoreSteps.Load) == true;
        var outcome = result?.Outcome.ToString() ?? (run.IsActive ? null : run.RuntimeStatus);
        var detail = run.RuntimeStatus == "Failed" ? status?.OperatorAction ?? status?.Error ?? run.FailureMessage
            : result is not null ? result.Detail
            : status?.Error;
        return new BatchMemberState(run.InstanceId, run.RuntimeStatus, step, status?.AwaitingApproval == true && run.IsActive, moved, status?.Parity?.Verdict.ToString(), outcome, detail);
    }
}
