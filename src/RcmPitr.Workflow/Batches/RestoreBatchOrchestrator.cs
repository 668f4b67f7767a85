using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Drills;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Orchestration;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Batches;

/// <summary>
/// Restores many tenants to one restore time with one restored server per source server. The batch first takes its own
/// hold on the restored server of each source (the platform provisions it once, for the first holder); then it starts the
/// member runs — ordinary restore runs, each with its own status, freeze, approval, cutover, audit and compensation — at
/// most <see cref="RestoreBatchRequest.Parallelism"/> of them moving their database at once; it follows them on durable
/// timers and publishes every member's line; when all have ended it gives up its holds, and the last holder of each server
/// deletes it. A member that fails is compensated by its own run and never stops the others; a cancel stops the members
/// not started yet and asks the running ones to stop.
/// </summary>
public sealed class RestoreBatchOrchestrator
{
    /// <summary>The orchestrator's registered name, versioned (ADR 0008).</summary>
    public const string Name = "RestoreBatchV1";

    /// <summary>Consecutive failed reads of the members after which the batch stops following them (they go on alone).</summary>
    internal const int MaxFailedReads = 20;

    private const int MaxDetail = 300;

    /// <summary>Runs the batch described by <paramref name="request"/>.</summary>
    public async Task<RestoreBatchResult> RunAsync(IOrchestrationContext context, RestoreBatchRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        var batch = new Batch(context, request);
        try
        {
            await batch.HoldServersAsync();
            await batch.RunMembersAsync();
            if (request.Drill)
            {
                await batch.RecordDrillAsync();
            }
        }
        catch (Exception e) when (e is ActivityFailedException or InvalidOperationException)
        {
            batch.Error = $"the batch stopped following its members: {Describe(e)}";
            batch.OperatorAction = "Follow each member run by its own status URL; they go on without the batch.";
        }
        finally
        {
            await batch.ReleaseServersAsync();
        }

        return batch.Finish();
    }

    private static string Describe(Exception e) => e is ActivityFailedException a ? a.Failure.ErrorMessage : e.Message;

    private static string? Clip(string? text) => text is null || text.Length <= MaxDetail ? text : text[..MaxDetail] + "…";

    private sealed class Batch(IOrchestrationContext context, RestoreBatchRequest request)
    {
        private readonly List<BatchMemberStatus> _members = request.Members
            .Select(m => new BatchMemberStatus(m.Tenant, m.RunId, m.Server, BatchMemberStates.Waiting, null, null, null, null, null, null))
            .ToList();

        private readonly List<(DbServerInfo Source, BatchServerStatus Status)> _servers = [];
        private readonly HashSet<string> _moved = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _startErrors = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _missingReads = new(StringComparer.Ordinal);
        private readonly Task<CancelRequest> _cancel = context.WaitForExternalEvent<CancelRequest>(RestoreEvents.Cancel);
        private readonly string _stamp = RestoreStamp.From(request.RestoreTime).Value;
        private CancelRequest? _cancelled;
        private string? _drill;
        private string _phase = "holding servers";

        public string? Error { get; set; }

        public string? OperatorAction { get; set; }

        private string BatchId => context.InstanceId;

        private RetryPolicy Retry => request.Settings.RetryPolicy();

        /// <summary>One hold per source server, taken before any member starts: the members attach to it.</summary>
        public async Task HoldServersAsync()
        {
            Publish();
            foreach (var group in request.Members.GroupBy(m => m.Server, StringComparer.Ordinal))
            {
                var source = await SourceOfAsync(group.ToList());
                if (source is null)
                {
                    continue;
                }

                var name = ServerNames.Pitr(source.Name, RestoreStamp.From(request.RestoreTime));
                var index = _servers.Count;
                _servers.Add((source, new BatchServerStatus(source.Name, name, "acquiring", null)));
                Publish();
                try
                {
                    var held = await context.CallActivityAsync<AcquireServerResult>(ActivityNames.AcquireServer, new AcquireServerInput(BatchId, source, request.RestoreTime), Retry);
                    _servers[index] = (source, _servers[index].Status with { State = "held", Detail = held.Created ? "created for this batch" : $"shared with {string.Join(", ", held.Holders.Where(h => h != BatchId))}" });
                }
                catch (ActivityFailedException e)
                {
                    _servers[index] = (source, _servers[index].Status with { State = "failed", Detail = Clip(e.Failure.ErrorMessage) });
                    foreach (var member in group)
                    {
                        Set(member.RunId, m => m with { State = BatchMemberStates.NotStarted, Detail = Clip($"the restored server {name} could not be held: {e.Failure.ErrorMessage}"), EndedAt = context.CurrentUtcDateTime });
                    }
                }
            }
        }

        // The source server as it is now: the first member of the group that still resolves tells it. Members that do not
        // resolve are not started (their own run would fail at the same step).
        private async Task<DbServerInfo?> SourceOfAsync(List<BatchMember> group)
        {
            foreach (var member in group)
            {
                try
                {
                    var tenant = await context.CallActivityAsync<TenantInfo>(
                        ActivityNames.ResolveTenant, new ResolveTenantInput(member.Tenant, RequireActive: false, request.RestoreTime), Retry);
                    if (tenant.Server.Name == member.Server)
                    {
                        return tenant.Server;
                    }

                    Set(member.RunId, m => m with { State = BatchMemberStates.NotStarted, Detail = $"the tenant moved to server {tenant.Server.Name} since the batch was accepted; restore it on its own", EndedAt = context.CurrentUtcDateTime });
                }
                catch (ActivityFailedException e)
                {
                    Set(member.RunId, m => m with { State = BatchMemberStates.NotStarted, Detail = Clip(e.Failure.ErrorMessage), EndedAt = context.CurrentUtcDateTime });
                }
            }

            return null;
        }

        /// <summary>Starts the members as the parallelism allows and follows them until every one has ended.</summary>
        public async Task RunMembersAsync()
        {
            _phase = "running";
            var failedReads = 0;
            var interval = request.PollInterval;
            while (true)
            {
                if (_cancelled is null && _cancel.IsCompleted)
                {
                    // A cancel whose payload cannot be read still cancels: it must never leave the loop spinning on it.
                    await CancelAsync(_cancel.IsCompletedSuccessfully ? _cancel.Result : new CancelRequest("unknown", "a cancel request that could not be read"));
                }

                if (_cancelled is null)
                {
                    await StartWaitingAsync();
                }

                Publish();
                if (_members.All(m => m.Final))
                {
                    return;
                }

                using (var timerCancellation = new CancellationTokenSource())
                {
                    var timer = context.CreateTimer(context.CurrentUtcDateTime.Add(interval), timerCancellation.Token);
                    if (_cancelled is null && await Task.WhenAny(timer, _cancel) == _cancel)
                    {
                        timerCancellation.Cancel();
                        continue;
                    }

                    await timer;
                }

                var before = _members.ToList();
                try
                {
                    await ReadAsync();
                    failedReads = 0;
                    Error = null;
                }
                catch (ActivityFailedException e) when (++failedReads < MaxFailedReads)
                {
                    Error = Clip($"could not read the members ({failedReads} times in a row): {e.Failure.ErrorMessage}");
                }

                // While nothing changes (members provisioning for an hour, or awaiting their decision) the batch looks less often,
                // so its history stays small; any change brings it back to the poll interval.
                var maxInterval = request.MaxPollInterval > request.PollInterval ? request.MaxPollInterval : request.PollInterval;
                interval = before.SequenceEqual(_members) ? TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, maxInterval.Ticks)) : request.PollInterval;
            }
        }

        private async Task StartWaitingAsync()
        {
            var parallelism = Math.Clamp(request.Parallelism, 1, BatchSettings.MaxParallelism);
            foreach (var member in request.Members)
            {
                var moving = _members.Count(m => m.State is BatchMemberStates.Running && !_moved.Contains(m.RunId));
                if (moving >= parallelism)
                {
                    return;
                }

                if (Get(member.RunId).State != BatchMemberStates.Waiting)
                {
                    continue;
                }

                var now = context.CurrentUtcDateTime;
                try
                {
                    var started = await context.CallActivityAsync<StartBatchMemberResult>(
                        ActivityNames.StartBatchMember, new StartBatchMemberInput(BatchId, member.RunId, request.RequestFor(member, BatchId)), Retry);
                    Set(member.RunId, m => started.Started
                        ? m with { State = BatchMemberStates.Running, Step = RestoreSteps.Resolve, StartedAt = now }
                        : m with { State = BatchMemberStates.NotStarted, Detail = $"tenant busy: run {started.BusyWith} holds it (one run per tenant); restore it on its own once that run ends", EndedAt = now });
                }
                catch (ActivityFailedException e)
                {
                    // Whether a run exists despite the failure is known at the next read: none means not started.
                    _startErrors[member.RunId] = Clip(e.Failure.ErrorMessage)!;
                    Set(member.RunId, m => m with { State = BatchMemberStates.Running, Detail = $"start uncertain: {_startErrors[member.RunId]}", StartedAt = now });
                }

                Publish();
            }
        }

        private async Task CancelAsync(CancelRequest cancel)
        {
            _cancelled = cancel;
            _phase = "cancelling";
            var now = context.CurrentUtcDateTime;
            var why = Clip($"batch cancelled by {cancel.RequestedBy}" + (cancel.Reason is null ? string.Empty : $": {cancel.Reason}"))!;
            foreach (var member in _members.Where(m => m.State == BatchMemberStates.Waiting).ToList())
            {
                Set(member.RunId, m => m with { State = BatchMemberStates.NotStarted, Detail = why, EndedAt = now });
            }

            var active = _members.Where(m => !m.Final).Select(m => m.RunId).ToList();
            if (active.Count > 0)
            {
                try
                {
                    await context.CallActivityAsync<int>(ActivityNames.CancelBatchMembers, new CancelBatchMembersInput(BatchId, active, cancel.RequestedBy, why), Retry);
                }
                catch (ActivityFailedException e)
                {
                    Error = Clip($"could not ask every member to stop: {e.Failure.ErrorMessage}; cancel them one by one");
                }
            }
        }

        private async Task ReadAsync()
        {
            // Only started members have runs to read; a waiting one has none yet.
            var open = _members.Where(m => m.State is BatchMemberStates.Running or BatchMemberStates.AwaitingApproval).Select(m => m.RunId).ToList();
            if (open.Count == 0)
            {
                return;
            }

            var states = await context.CallActivityAsync<IReadOnlyList<BatchMemberState>>(ActivityNames.ReadBatchMembers, new ReadBatchMembersInput(BatchId, open), Retry);
            var now = context.CurrentUtcDateTime;
            foreach (var state in states)
            {
                if (state.Moved)
                {
                    _moved.Add(state.RunId);
                }

                Set(state.RunId, m => Apply(m, state, now));
            }
        }

        private BatchMemberStatus Apply(BatchMemberStatus member, BatchMemberState state, DateTime now)
        {
            if (state.RuntimeStatus == "Missing")
            {
                if (_startErrors.TryGetValue(member.RunId, out var startError))
                {
                    return member with { State = BatchMemberStates.NotStarted, Detail = Clip($"not started: {startError}"), EndedAt = now };
                }

                // Started a moment ago and not visible yet — or gone (its history purged): not followed for ever.
                var missing = _missingReads[member.RunId] = _missingReads.GetValueOrDefault(member.RunId) + 1;
                return missing < MaxFailedReads
                    ? member
                    : member with { State = BatchMemberStates.Failed, Detail = "its run cannot be found any more; check the tenant by hand", EndedAt = now };
            }

            _missingReads.Remove(member.RunId);

            var updated = member with { Step = state.Step ?? member.Step, Parity = state.Parity ?? member.Parity, Outcome = state.Outcome, Detail = Clip(state.Detail) };
            if (!state.Ended)
            {
                return updated with { State = state.AwaitingApproval ? BatchMemberStates.AwaitingApproval : BatchMemberStates.Running };
            }

            var final = state.Outcome switch
            {
                nameof(RestoreOutcome.Restored) or nameof(RestoreOutcome.DryRunCompleted) or nameof(RestoreOutcome.SnapshotCreated) => BatchMemberStates.Succeeded,
                nameof(RestoreOutcome.Rejected) or nameof(RestoreOutcome.ApprovalTimedOut) or nameof(RestoreOutcome.Cancelled) => BatchMemberStates.Stopped,
                _ => BatchMemberStates.Failed,
            };
            return updated with { State = final, EndedAt = now };
        }

        /// <summary>A drill's report: every member's result against its known-good reference, recorded once all have ended.</summary>
        public async Task RecordDrillAsync()
        {
            _phase = "recording drill report";
            Publish();
            var ends = _members.Select(m => new DrillMemberEnd(m.Tenant, m.RunId, m.Server, m.State, m.Detail)).ToList();
            try
            {
                var recorded = await context.CallActivityAsync<RecordDrillResult>(ActivityNames.RecordDrill, new RecordDrillInput(BatchId, request.RestoreTime, ends, request.Skipped), Retry);
                _drill = $"drill: {recorded.Passed} passed, {recorded.Failed} failed";
            }
            catch (ActivityFailedException e)
            {
                _drill = Clip($"drill report not recorded: {e.Failure.ErrorMessage}");
                OperatorAction = "The drill's report could not be recorded; its member runs' statuses hold what it found.";
            }
        }

        /// <summary>Gives up the batch's holds; each server goes when its last member has let go too.</summary>
        public async Task ReleaseServersAsync()
        {
            _phase = "releasing servers";
            Publish();
            var failures = new List<string>();
            for (var i = 0; i < _servers.Count; i++)
            {
                var (source, status) = _servers[i];
                if (status.State == "released")
                {
                    continue;
                }

                // A failed acquire may still have recorded the batch's hold (the server store keeps it so a release converges):
                // released like the others; a release of nothing held does nothing.

                try
                {
                    var released = await context.CallActivityAsync<ReleaseServerResult>(ActivityNames.ReleaseServer, new ReleaseServerInput(BatchId, source, status.RestoredServer), Retry);
                    var detail = !released.Held ? "the batch held nothing to release"
                        : released.Deleted ? "released by the batch, its last holder: deleted"
                        : $"released by the batch; kept for {string.Join(", ", released.RemainingHolders)}";
                    _servers[i] = (source, status with { State = "released", Detail = status.Detail is null ? detail : $"{status.Detail}; {detail}" });
                }
                catch (ActivityFailedException e)
                {
                    _servers[i] = (source, status with { Detail = Clip($"release failed: {e.Failure.ErrorMessage}") });
                    failures.Add($"{status.RestoredServer}: {e.Failure.ErrorMessage}");
                }
            }

            if (failures.Count > 0)
            {
                OperatorAction = Clip($"The batch could not release its hold on: {string.Join("; ", failures)}. Release it again (it is safe) or delete the server once no member run holds it.");
            }
        }

        public RestoreBatchResult Finish()
        {
            var counts = Count();
            _phase = Error is not null && OperatorAction is not null ? "failed" : "completed";
            Publish();
            var outcome = _cancelled is not null ? BatchOutcome.Cancelled
                : counts.Succeeded == counts.Total ? BatchOutcome.Succeeded
                : counts.Succeeded == 0 ? BatchOutcome.Failed
                : BatchOutcome.PartlySucceeded;
            var detail = $"{counts.Succeeded} of {counts.Total} tenants {(request.Mode == RestoreMode.Restore ? "restored" : request.Mode == RestoreMode.DryRun ? "dry-run" : "copied as of the restore time")}" +
                         (counts.Failed > 0 ? $", {counts.Failed} failed" : string.Empty) +
                         (counts.Stopped > 0 ? $", {counts.Stopped} stopped" : string.Empty) +
                         (counts.NotStarted > 0 ? $", {counts.NotStarted} not started" : string.Empty) +
                         $"; {_servers.Count} restored server{(_servers.Count == 1 ? string.Empty : "s")} for {request.Members.Select(m => m.Server).Distinct(StringComparer.Ordinal).Count()} source server(s)" +
                         (_drill is null ? string.Empty : $"; {_drill}");
            return new RestoreBatchResult(outcome, _members.ToList(), _servers.Select(s => s.Status).ToList(), counts, detail);
        }

        private BatchCounts Count() => new(
            _members.Count,
            _members.Count(m => m.State == BatchMemberStates.Waiting),
            _members.Count(m => m.State == BatchMemberStates.Running),
            _members.Count(m => m.State == BatchMemberStates.AwaitingApproval),
            _members.Count(m => m.State == BatchMemberStates.Succeeded),
            _members.Count(m => m.State == BatchMemberStates.Failed),
            _members.Count(m => m.State == BatchMemberStates.Stopped),
            _members.Count(m => m.State == BatchMemberStates.NotStarted));

        private void Publish() => context.SetCustomStatus(BatchStatusBudget.Fit(new RestoreBatchStatus(
            _phase, request.Mode.ToString(), _stamp, request.Selector, Math.Clamp(request.Parallelism, 1, BatchSettings.MaxParallelism),
            _servers.Select(s => s.Status).ToList(), _members.ToList(), Count(), Error, OperatorAction)));

        private BatchMemberStatus Get(string runId) => _members.First(m => m.RunId == runId);

        private void Set(string runId, Func<BatchMemberStatus, BatchMemberStatus> change)
        {
            var index = _members.FindIndex(m => m.RunId == runId);
            if (index >= 0)
            {
                _members[index] = change(_members[index]);
            }
        }
    }
}
