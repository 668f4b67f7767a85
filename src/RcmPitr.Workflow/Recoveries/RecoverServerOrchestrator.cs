using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Identity;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Orchestration;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Recoveries;

/// <summary>
/// Region loss, the runbook's geo-redundant path for a whole server: list its tenants → refuse a server that still answers
/// (unless forced) → geo-restore it as a new server and poll on durable timers until Ready → per tenant: freeze and smoke-check
/// its database there → ONE four-eyes approval for the whole recovery → per tenant: re-point, invalidate caches, verify, unfreeze,
/// audit. One status carries every tenant's line. A tenant that fails never stops the others; a rejection (or no decision in
/// time) unfreezes every tenant and leaves them on the lost server. The recovered server is never deleted by the recovery: when
/// no tenant was re-pointed to it, an operator decides its fate (the status says so).
/// </summary>
public sealed class RecoverServerOrchestrator
{
    /// <summary>The orchestrator's registered name, versioned (ADR 0008).</summary>
    public const string Name = "RecoverServerV1";

    private const int MaxDetail = 300;

    /// <summary>Runs the recovery described by <paramref name="request"/>.</summary>
    public async Task<RecoverServerResult> RunAsync(IOrchestrationContext context, RecoverServerRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        var recovery = new Recovery(context, request);
        try
        {
            await recovery.ListTenantsAsync();
            await recovery.ProbeAsync();
            await recovery.GeoRestoreAsync();
            await recovery.FreezeAndCheckAsync();
            if (await recovery.WaitForApprovalAsync())
            {
                await recovery.RepointAllAsync();
            }
        }
        catch (RecoveryStoppedException e)
        {
            recovery.Stop(e.Outcome, e.Message);
        }

        return recovery.Finish();
    }

    private static string Describe(Exception e) => e is ActivityFailedException a ? a.Failure.ErrorMessage : e.Message;

    private static string? Clip(string? text) => text is null || text.Length <= MaxDetail ? text : text[..MaxDetail] + "…";

    private sealed class RecoveryStoppedException(RecoveryOutcome outcome, string message) : Exception(message)
    {
        public RecoveryOutcome Outcome { get; } = outcome;
    }

    private sealed class Recovery(IOrchestrationContext context, RecoverServerRequest request)
    {
        private readonly List<RecoveryTenantLine> _lines = [];
        private readonly List<TenantInfo> _tenants = [];
        private readonly List<DecisionRecord> _decisions = [];
        private readonly string _recoveredName = ServerNames.Geo(request.Server, RestoreStamp.Parse(request.Stamp));
        private DbServerInfo? _lost;
        private DbServerInfo? _recovered;
        private string? _recoveredState;
        private string? _restorePoint;
        private string _phase = "probing";
        private bool _awaitingApproval;
        private bool _geoStarted;
        private RecoveryOutcome? _stopped;
        private string? _error;
        private string? _operatorAction;
        private string? _approvedBy;

        private RetryPolicy Retry => request.Settings.RetryPolicy();

        private string Actor => request.RequestedBy;

        public async Task ListTenantsAsync()
        {
            Publish();
            var listed = await CallAsync<ListServerTenantsResult>(RecoveryActivityNames.ListServerTenants, new ListServerTenantsInput(request.Server), "the lost server's tenants could not be listed");
            _lost = listed.Server;
            foreach (var tenant in listed.Tenants)
            {
                _tenants.Add(tenant);
                _lines.Add(new RecoveryTenantLine(tenant.Slug, MemberId(tenant.Slug), RecoveryTenantStates.Waiting, null, null));
            }

            if (_tenants.Count == 0)
            {
                throw new RecoveryStoppedException(RecoveryOutcome.Failed, $"no tenant is registered on {request.Server}: there is nothing to recover");
            }
        }

        public async Task ProbeAsync()
        {
            var probe = await CallAsync<ProbeServerResult>(RecoveryActivityNames.ProbeServer, new ProbeServerInput(_lost!), "the lost server could not be probed");
            if (probe.Reachable && !request.Force)
            {
                throw new RecoveryStoppedException(RecoveryOutcome.Refused, $"{probe.Detail}: a server that still answers is not recovered unless the request says force");
            }

            _recoveredState = probe.Reachable ? $"forced: {probe.Detail}" : $"lost: {probe.Detail}";
        }

        /// <summary>Starts (or finds) the geo-restore and polls it on durable timers until Ready, within the provisioning timeout.</summary>
        public async Task GeoRestoreAsync()
        {
            _phase = "geo-restoring";
            Publish();
            var started = await CallAsync<GeoRestoreResult>(RecoveryActivityNames.StartGeoRestore, new GeoRestoreInput(context.InstanceId, _lost!, _recoveredName), "the geo-restore could not be started");
            _geoStarted = true;
            _recoveredState = "provisioning";
            _restorePoint = started.RestorePoint;
            Publish();
            var startedAt = context.CurrentUtcDateTime;
            var wait = request.Settings.FirstPollInterval;
            while (true)
            {
                var state = await CallAsync<GeoRestoreState>(
                    RecoveryActivityNames.GetGeoRestoreState, new GetServerStateInput(_lost!, _recoveredName, started.OperationUrl), "the geo-restored server's state could not be read");
                _recoveredState = Clip($"{state.Status.State}{(state.Status.Detail is { } d ? $": {d}" : string.Empty)}");
                var elapsed = context.CurrentUtcDateTime - startedAt;
                switch (state.Status.State)
                {
                    case ServerState.Ready:
                        _recovered = state.Status.Server;
                        _restorePoint = state.RestorePoint ?? _restorePoint;
                        Publish();
                        return;
                    case ServerState.Failed:
                    case ServerState.NotFound when elapsed > request.Settings.ProvisionNotFoundGrace:
                        throw new RecoveryStoppedException(RecoveryOutcome.Failed, $"the geo-restore of {_recoveredName} failed: {state.Status.Detail}");
                }

                if (elapsed > request.Settings.ProvisionTimeout)
                {
                    throw new RecoveryStoppedException(RecoveryOutcome.Failed, $"{_recoveredName} was not Ready within {request.Settings.ProvisionTimeout}");
                }

                Publish();
                await context.CreateTimer(context.CurrentUtcDateTime.Add(wait), CancellationToken.None);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, request.Settings.MaxPollInterval.Ticks));
            }
        }

        /// <summary>Per tenant: freeze (active tenants only) and smoke-check its database on the recovered server; a failure is that tenant's alone.</summary>
        public async Task FreezeAndCheckAsync()
        {
            _phase = "freezing and checking";
            foreach (var tenant in _tenants)
            {
                var id = MemberId(tenant.Slug);
                try
                {
                    if (tenant.Status == TenantStatus.Active)
                    {
                        Set(tenant.Slug, l => l with { Step = "freeze" });
                        await context.CallActivityAsync<FreezeTenantResult>(ActivityNames.FreezeTenant, new FreezeTenantInput(id, tenant.TenantId, Actor, Why("freeze")), Retry);
                        Set(tenant.Slug, l => l with { Frozen = true });
                    }

                    Set(tenant.Slug, l => l with { Step = "smoke check on the recovered server" });
                    var check = await context.CallActivityAsync<CheckRecoveredTenantResult>(
                        RecoveryActivityNames.CheckRecoveredTenant, new CheckRecoveredTenantInput(_recovered!, tenant.Live, request.Settings.CanaryTables), Retry);
                    Set(tenant.Slug, l => l with
                    {
                        State = RecoveryTenantStates.Checked,
                        Counts = check.Counts,
                        Detail = tenant.Status == TenantStatus.Active ? null : $"status {tenant.Status}: re-pointed without a freeze, its status left as it is",
                    });
                }
                catch (ActivityFailedException e)
                {
                    await FailAsync(tenant, $"{Get(tenant.Slug).Step} failed: {e.Failure.ErrorMessage}");
                }
            }

            if (_lines.All(l => l.Final))
            {
                throw new RecoveryStoppedException(RecoveryOutcome.Failed, "no tenant could be checked on the recovered server");
            }
        }

        /// <summary>One decision for the whole recovery; the requester's own is refused and recorded. False: rejected or timed out (every tenant unfrozen).</summary>
        public async Task<bool> WaitForApprovalAsync()
        {
            _phase = "awaiting approval";
            _awaitingApproval = true;
            Publish();
            using var timerCancellation = new CancellationTokenSource();
            var timer = context.CreateTimer(context.CurrentUtcDateTime.Add(request.Settings.ApprovalTimeout), timerCancellation.Token);
            ApprovalDecision? accepted = null;
            while (accepted is null)
            {
                using var eventCancellation = new CancellationTokenSource();
                var decision = context.WaitForExternalEvent<ApprovalDecision>(RestoreEvents.Approval, eventCancellation.Token);
                if (await Task.WhenAny(decision, timer) != decision)
                {
                    eventCancellation.Cancel();
                    _awaitingApproval = false;
                    await StopAllAsync(RecoveryOutcome.ApprovalTimedOut, $"no decision within {request.Settings.ApprovalTimeout}");
                    return false;
                }

                var received = await decision;
                var verb = received.Approved ? "approve" : "reject";
                if (PrincipalIds.Same(received.DeciderId, request.RequesterId))
                {
                    _decisions.Add(new DecisionRecord(received.TimedAt(context.CurrentUtcDateTime), received.DecidedBy, verb, Accepted: false, $"refused: {received.DecidedBy} requested this recovery; four eyes need a second person"));
                    Publish();
                    continue;
                }

                accepted = received;
                _decisions.Add(new DecisionRecord(received.TimedAt(context.CurrentUtcDateTime), received.DecidedBy, verb, Accepted: true, Clip(received.Comment)));
            }

            timerCancellation.Cancel();
            _awaitingApproval = false;
            if (!accepted.Approved)
            {
                await StopAllAsync(RecoveryOutcome.Rejected, $"rejected by {accepted.DecidedBy}" + (accepted.Comment is { } c ? $": {Clip(c)}" : string.Empty));
                return false;
            }

            _approvedBy = accepted.DecidedBy;
            return true;
        }

        /// <summary>Per checked tenant: re-point, invalidate caches, verify, unfreeze, audit. A failure is that tenant's alone.</summary>
        public async Task RepointAllAsync()
        {
            _phase = "re-pointing";
            foreach (var tenant in _tenants.Where(t => Get(t.Slug).State == RecoveryTenantStates.Checked))
            {
                var repointed = false;
                try
                {
                    Set(tenant.Slug, l => l with { Step = "re-point" });
                    var result = await context.CallActivityAsync<RepointTenantResult>(
                        RecoveryActivityNames.RepointTenant,
                        new RepointTenantInput(MemberId(tenant.Slug), tenant.TenantId, tenant.Slug, request.Server, _recovered!, _restorePoint ?? "unknown", Actor, Why("re-point")),
                        Retry);
                    repointed = true;
                    Set(tenant.Slug, l => l with { Step = "invalidate caches", Detail = $"re-pointed from {result.PreviousServer} ({result.PreviousRef}) to {_recoveredName} ({result.NewRef})" });
                    await context.CallActivityAsync<bool>(ActivityNames.InvalidateTenantCache, new InvalidateTenantCacheInput(tenant.TenantId), Retry);
                    Set(tenant.Slug, l => l with { Step = "verify" });
                    await context.CallActivityAsync<VerifyCutoverResult>(ActivityNames.VerifyCutover, new VerifyCutoverInput(_recovered!, tenant.Live, Get(tenant.Slug).Counts!), Retry);
                    await UnfreezeAsync(tenant, "recovered");
                    Set(tenant.Slug, l => l with { Step = "audit" });
                    await context.CallActivityAsync<WriteAuditResult>(ActivityNames.WriteAudit, Audit(tenant, AuditEvents.ServerRecovered, Why("recovered"), result.NewRef), Retry);
                    Set(tenant.Slug, l => l with { State = RecoveryTenantStates.Recovered, Step = "done" });
                }
                catch (ActivityFailedException e)
                {
                    await FailAsync(tenant, $"{Get(tenant.Slug).Step} failed: {e.Failure.ErrorMessage}", repointed);
                }
            }
        }

        public void Stop(RecoveryOutcome outcome, string why)
        {
            _stopped = outcome;
            _error = Clip(why);
            _awaitingApproval = false;
            if (_geoStarted)
            {
                _operatorAction ??= $"No tenant was re-pointed to {_recoveredName}: it is kept for an operator to inspect or delete.";
            }
        }

        public RecoverServerResult Finish()
        {
            var recovered = _lines.Count(l => l.State == RecoveryTenantStates.Recovered);
            var outcome = _stopped ?? (recovered == _lines.Count ? RecoveryOutcome.Recovered : recovered == 0 ? RecoveryOutcome.Failed : RecoveryOutcome.PartlyRecovered);
            if (recovered == 0 && _geoStarted)
            {
                _operatorAction ??= $"No tenant was re-pointed to {_recoveredName}: it is kept for an operator to inspect or delete.";
            }

            _phase = outcome switch
            {
                RecoveryOutcome.Recovered or RecoveryOutcome.PartlyRecovered => "completed",
                RecoveryOutcome.Refused => "refused",
                RecoveryOutcome.Rejected => "rejected",
                RecoveryOutcome.ApprovalTimedOut => "approval timed out",
                _ => "failed",
            };
            Publish();
            var detail = $"{recovered} of {_lines.Count} tenants of {request.Server} recovered to {_recoveredName}" +
                         (_lines.Count(l => l.State == RecoveryTenantStates.Failed) is > 0 and var failed ? $", {failed} failed" : string.Empty) +
                         (_lines.Count(l => l.State == RecoveryTenantStates.Stopped) is > 0 and var stopped ? $", {stopped} stopped" : string.Empty) +
                         (_error is { } error ? $"; {error}" : string.Empty);
            return new RecoverServerResult(outcome, request.Server, _recoveredName, _restorePoint, _lines.ToList(), detail);
        }

        private async Task StopAllAsync(RecoveryOutcome outcome, string why)
        {
            _stopped = outcome;
            _error = Clip(why);
            foreach (var tenant in _tenants.Where(t => !Get(t.Slug).Final))
            {
                await UnfreezeAsync(tenant, outcome == RecoveryOutcome.Rejected ? "recovery rejected" : "no decision in time");
                Set(tenant.Slug, l => l with { State = RecoveryTenantStates.Stopped, Detail = Clip($"{why}; left on {request.Server}") });
                await AuditFailureAsync(tenant, why);
            }
        }

        private async Task FailAsync(TenantInfo tenant, string why, bool repointed = false)
        {
            Set(tenant.Slug, l => l with { State = RecoveryTenantStates.Failed, Detail = Clip(why) });
            if (repointed)
            {
                // Re-pointed but not verified: the tenant stays frozen on the recovered server for an operator to check.
                _operatorAction = Clip($"{(_operatorAction is null ? string.Empty : _operatorAction + " ")}{tenant.Slug} was re-pointed to {_recoveredName} but {why}: it is left frozen; check it and unfreeze by hand.");
            }
            else
            {
                await UnfreezeAsync(tenant, "recovery of this tenant failed");
            }

            await AuditFailureAsync(tenant, why);
        }

        private async Task UnfreezeAsync(TenantInfo tenant, string why)
        {
            if (!Get(tenant.Slug).Frozen)
            {
                return;
            }

            try
            {
                await context.CallActivityAsync<UnfreezeTenantResult>(ActivityNames.UnfreezeTenant, new UnfreezeTenantInput(MemberId(tenant.Slug), tenant.TenantId, Actor, Why(why)), Retry);
                Set(tenant.Slug, l => l with { Frozen = false });
            }
            catch (ActivityFailedException e)
            {
                _operatorAction = Clip($"{(_operatorAction is null ? string.Empty : _operatorAction + " ")}{tenant.Slug} could not be unfrozen ({e.Failure.ErrorMessage}): unfreeze it by hand.");
            }
        }

        private async Task AuditFailureAsync(TenantInfo tenant, string why)
        {
            try
            {
                await context.CallActivityAsync<WriteAuditResult>(ActivityNames.WriteAudit, Audit(tenant, AuditEvents.ServerRecoveryFailed, Clip(why)!, newRef: null), Retry);
            }
            catch (ActivityFailedException e)
            {
                _error = Clip($"the failure audit row of {tenant.Slug} could not be written: {Describe(e)}");
            }
        }

        private WriteAuditInput Audit(TenantInfo tenant, string auditEvent, string reason, string? newRef)
        {
            var details = new Dictionary<string, string>
            {
                ["recoveryId"] = context.InstanceId,
                ["lostServer"] = request.Server,
                ["recoveredServer"] = _recoveredName,
                ["restorePoint"] = _restorePoint ?? "unknown",
                ["requestedBy"] = request.RequestedBy,
            };
            if (_approvedBy is not null)
            {
                details["approvedBy"] = _approvedBy;
            }

            if (newRef is not null)
            {
                details["dbConfigRef"] = newRef;
            }

            return new WriteAuditInput(MemberId(tenant.Slug), tenant.TenantId, auditEvent, Actor, reason, details);
        }

        private async Task<T> CallAsync<T>(string activity, object input, string what)
        {
            try
            {
                return await context.CallActivityAsync<T>(activity, input, Retry);
            }
            catch (ActivityFailedException e)
            {
                throw new RecoveryStoppedException(RecoveryOutcome.Failed, $"{what}: {e.Failure.ErrorMessage}");
            }
        }

        private string Why(string step) => Clip($"server recovery {context.InstanceId} ({step}): {request.Reason}")!;

        // A tenant's id in the recovery keys its freeze, re-point and audit rows: the recovery's id and the slug (or its tag when
        // that would be too long for a run id).
        private string MemberId(string slug)
        {
            var id = $"{context.InstanceId}.{slug}";
            return id.Length <= 100 ? id : $"{context.InstanceId[..Math.Min(context.InstanceId.Length, 90)]}.{RunIds.Tag(slug)}";
        }

        private RecoveryTenantLine Get(string slug) => _lines.First(l => l.Tenant == slug);

        private void Set(string slug, Func<RecoveryTenantLine, RecoveryTenantLine> change)
        {
            var index = _lines.FindIndex(l => l.Tenant == slug);
            _lines[index] = change(_lines[index]);
            Publish();
        }

        private void Publish() => context.SetCustomStatus(RecoveryStatusBudget.Fit(new RecoverServerStatus(
            _phase, request.Server, _recoveredName, _recoveredState, _restorePoint, _awaitingApproval, _lines.ToList(), _decisions.ToList(), _error, _operatorAction)));
    }
}
