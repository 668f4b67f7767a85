using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Npgsql;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Api;

/// <summary>
/// What each route of the restores API does — start, status (Durable's status-query semantics), approve / reject
/// (four eyes, first decision wins), cancel, rollback, list — independent of the engine and of how the caller was
/// authenticated: the host passes the authenticated <see cref="Principal"/> in, and the roles it holds decide what it may do.
/// </summary>
/// <remarks>
/// The status of a single run carries the live progress of its database transfer (<c>customStatus.transfer</c>) and the
/// decision attempts the API refused (<c>customStatus.decisions</c>): activities cannot write an orchestration's custom
/// status, so both are kept in the control plane and merged in here. So is the full parity table when the run's own
/// status had to leave rows out to stay within its size budget (<see cref="RestoreStatusBudget"/>).
/// </remarks>
public sealed class RestoreApiHandlers(
    IRestoreRuns runs,
    TenantResolver tenants,
    IServerProvisioner provisioner,
    RestoreSettings settings,
    TimeProvider time,
    DecisionLog decisions,
    RestorePreflight? preflight = null,
    TransferProgressStore? progress = null,
    ApiLinkOptions? links = null,
    ParityReportStore? parityReports = null,
    ChangeReportStore? changeReports = null)
{
    /// <summary>Seconds a poller should wait between status requests while a run is active.</summary>
    public const int RetryAfterSeconds = 10;

    /// <summary>The routes' common prefix.</summary>
    public const string Route = RunAddresses.ApiRoute;

    /// <summary>Said of a recorded decision a later attempt raised again (see <see cref="DeliverUnreachedAsync"/>).</summary>
    private const string UnreachedNote = "; the run had not taken that decision yet, so it was raised again";

    /// <summary>The kinds of run <c>GET /api/restores?kind=</c> accepts (plus <c>all</c>).</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["restore", "dry-run", "snapshot", "rollback", "retention"];

    /// <summary><c>POST /api/restores</c>.</summary>
    public async Task<IResult> StartAsync(StartRestoreBody? body, Principal principal, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (!principal.Has(PrincipalRoles.Requester))
        {
            return Forbidden($"'{principal.Name}' does not hold the requester role and cannot start runs.");
        }

        var (validated, errors) = RequestValidation.Validate(body, time.GetUtcNow());
        if (validated is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The restore request is invalid.");
        }

        // Restores are to the second (servers and names are per second): a fraction is dropped, which never brings back
        // a write made after the time asked for.
        var parsed = validated with { RestoreTime = RestoreStamp.WholeSecond(validated.RestoreTime) };

        var slug = parsed.Tenant.Value;
        var (tenant, refusal) = await CheckTenantAsync(slug, parsed, ct);
        if (tenant is null)
        {
            return ToResult(refusal!);
        }

        var stamp = RestoreStamp.From(parsed.RestoreTime);
        var request = new RestoreRequest(slug, parsed.RestoreTime, parsed.Mode, parsed.Strategy, parsed.Reason, principal.Name)
        {
            Settings = settings,
            Transfer = parsed.Transfer,
            RequestedById = principal.Id,
        };
        var id = $"{RunIdPrefix(slug)}{stamp.Value}-{Guid.NewGuid().ToString("N")[..8]}";
        try
        {
            await runs.StartAsync(RestoreTenantOrchestrator.Name, id, request, slug, ct);
        }
        catch (TenantBusyException e)
        {
            return Busy(slug, e.RunningInstanceId);
        }

        return Accepted(http, id);
    }

    /// <summary>
    /// Every check a start makes of one tenant before anything is frozen or provisioned: it exists (and is active, for a
    /// restore), its database is known, the restore time is inside its server's retention window, no other run holds it, and
    /// the live side's preflight passes. The tenant, or why it cannot be started now. Batches check each member with it.
    /// </summary>
    internal async Task<(TenantInfo? Tenant, TenantRefusal? Refusal)> CheckTenantAsync(string slug, ParsedStart parsed, CancellationToken ct)
    {
        TenantInfo tenant;
        try
        {
            tenant = await tenants.ResolveAsync(new ResolveTenantInput(slug, RequireActive: parsed.Mode == RestoreMode.Restore, parsed.RestoreTime), ct);
        }
        catch (TenantNotFoundException e)
        {
            return (null, new TenantRefusal(StatusCodes.Status404NotFound, "Unknown tenant", e.Message));
        }
        catch (TenantStatusConflictException e)
        {
            // The usual reason a tenant is not active is a run that holds it: name that run.
            return (null, await ActiveRunOfAsync(slug, ct) is { } holder
                ? BusyRefusal(slug, holder)
                : new TenantRefusal(StatusCodes.Status409Conflict, "Tenant not active", e.Message));
        }
        catch (DatabaseStateConflictException e)
        {
            return (null, new TenantRefusal(StatusCodes.Status409Conflict, "Tenant database unknown", e.Message));
        }

        var earliest = await provisioner.GetEarliestRestoreTimeAsync(tenant.Server, ct);
        if (parsed.RestoreTime < earliest)
        {
            // Bad input, not a conflict: nothing older than the retention window can be restored to a point in time, and a
            // geo-restore is no way around it (it brings back the latest geo-backup, not T).
            return (null, new TenantRefusal(StatusCodes.Status400BadRequest, "The restore request is invalid.",
                $"{parsed.RestoreTime.UtcDateTime:O} is outside the retention window: the earliest restorable time (earliestRestoreDate) of {tenant.Server.Name} is {earliest.UtcDateTime:O}", Field: "restoreTime"));
        }

        try
        {
            ServerNames.Pitr(tenant.Server.Name, RestoreStamp.From(parsed.RestoreTime));
        }
        catch (InvalidRestoreInputException e)
        {
            return (null, new TenantRefusal(StatusCodes.Status400BadRequest, "The restore request is invalid.", e.Message, Field: "tenant"));
        }

        if (await ActiveRunOfAsync(slug, ct) is { } busy)
        {
            return (null, BusyRefusal(slug, busy));
        }

        // Every check that depends only on the live side runs now, before anything is frozen or provisioned (and again in
        // the run's preflight, against the restored server).
        if (preflight is not null)
        {
            try
            {
                await preflight.CheckAsync(new PreflightInput(tenant.Server, tenant.Server, slug, parsed.Transfer, tenant.Live, tenant.Live, Snapshot: parsed.Mode == RestoreMode.Snapshot), ct);
            }
            catch (PreflightFailedException e)
            {
                return (null, new TenantRefusal(StatusCodes.Status409Conflict, "Preflight failed", e.Message, Problems: e.Problems));
            }
        }

        return (tenant, null);
    }

    /// <summary>A refusal as the answer to a single start.</summary>
    internal static IResult ToResult(TenantRefusal refusal) => refusal switch
    {
        { Field: { } field } => Invalid(field, refusal.Detail),
        { Problems: { } problems } => Results.Problem(statusCode: refusal.Status, title: refusal.Title, detail: refusal.Detail,
            extensions: new Dictionary<string, object?> { ["problems"] = problems }),
        _ => Results.Problem(statusCode: refusal.Status, title: refusal.Title, detail: refusal.Detail),
    };

    /// <summary><c>GET /api/restores/{id}</c>.</summary>
    public async Task<IResult> GetAsync(string id, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        var run = await runs.GetAsync(id, ct);
        if (run is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown run", detail: $"No run with id '{id}'.");
        }

        if (run.Name == RestoreBatchOrchestrator.Name)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown run", detail: $"'{id}' is a batch: GET {Batches.RestoreBatchHandlers.Route}/{id}.");
        }

        return StatusAnswer(run, http, await MergedStatusAsync(run, ct));
    }

    /// <summary>
    /// A run's status in Durable's status-query shape: <c>202</c> with <c>Retry-After</c> while it is active, <c>200</c> once it
    /// has ended (batches and server recoveries answer with it as runs do).
    /// </summary>
    public static IResult StatusAnswer(RunInfo run, HttpContext http, object? customStatus = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(http);
        var status = ToStatus(run) with { CustomStatus = customStatus ?? run.CustomStatus };
        if (run.IsActive)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Json(status, statusCode: StatusCodes.Status202Accepted);
        }

        return TypedResults.Json(status);
    }

    /// <summary>
    /// <c>GET /api/restores/{id}/changes</c> (JSON) and <c>…/changes.csv</c> (the sampled keys): the run's change report from the
    /// master database. After a swap cutover the JSON names the kept database the rows written after the restore time are in.
    /// The sampled primary keys (member or claim ids) are for the people who run restores: a caller needs one of the roles.
    /// </summary>
    public async Task<IResult> ChangesAsync(string id, bool csv, Principal principal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (!PrincipalRoles.All.Any(principal.Has))
        {
            return Forbidden($"'{principal.Name}' holds no role (requester, approver or operator) and cannot read change reports.");
        }

        var run = await runs.GetAsync(id, ct);
        if (run is null || !RestoreTenantOrchestrator.IsRestore(run.Name))
        {
            return UnknownRun(id);
        }

        var report = changeReports is null ? null : await changeReports.GetAsync(run.InstanceId, ct);
        if (report is null)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "No change report",
                detail: run.Name == RestoreTenantV2Orchestrator.Name
                    ? $"Run '{id}' was started by a version that made no change report."
                    : $"Run '{id}' has no change report yet: it is made after the parity probe, before the approval gate.");
        }

        if (csv)
        {
            return Results.Text(ChangeReportCsv.Write(report), "text/csv; charset=utf-8");
        }

        var json = JsonSerializer.SerializeToNode(report, ApiJson.Options)!.AsObject();
        json["keptDatabase"] = ApiJson.Read<RestoreResult>(run.Output) is { Outcome: RestoreOutcome.Restored } restored ? restored.KeptDatabase : null;
        json["note"] = "Only primary key values leave the database; no other row data is in this report.";
        return TypedResults.Json(json, ApiJson.Options);
    }

    /// <summary><c>GET /api/restores?tenant=&amp;status=&amp;kind=</c>: runs newest first; retention timers only with <c>kind=retention</c> or <c>all</c>.</summary>
    public async Task<IResult> ListAsync(string? tenant, string? status, CancellationToken ct, string? kind = null)
    {
        if (tenant is not null && !TenantSlug.TryParse(tenant, out _, out var problem))
        {
            return Invalid("tenant", problem);
        }

        var statuses = new[] { "Pending", "Running", "Completed", "Failed", "Terminated" };
        var normalized = status is null ? null : statuses.FirstOrDefault(s => s.Equals(status, StringComparison.OrdinalIgnoreCase));
        if (status is not null && normalized is null)
        {
            return Invalid("status", $"use one of {string.Join(", ", statuses)}");
        }

        var wanted = kind?.Trim().ToLowerInvariant();
        if (wanted is not null && wanted != "all" && !Kinds.Contains(wanted))
        {
            return Invalid("kind", $"use one of {string.Join(", ", Kinds)} or all");
        }

        var list = await runs.ListAsync(tenant, normalized, ct);
        var rows = list.Where(r => r.Name != RestoreBatchOrchestrator.Name).Select(ToListItem)
            .Where(r => wanted == "all" || (wanted is null ? r.Kind != "retention" : r.Kind == wanted))
            .Where(r => tenant is null || r.Tenant == tenant)
            .OrderByDescending(r => r.CreatedTime)
            .ToList();
        return TypedResults.Json(rows);
    }

    /// <summary><c>POST /api/restores/{id}/approve</c> and <c>/reject</c>: four eyes, the first decision wins, every attempt is recorded.</summary>
    public async Task<IResult> DecideAsync(string id, bool approved, DecisionBody? body, Principal principal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var run = await runs.GetAsync(id, ct);
        if (run is null || !RestoreTenantOrchestrator.TakesDecisions(run.Name))
        {
            return UnknownRun(id);
        }

        var verb = approved ? "approve" : "reject";
        var attempt = new DecisionAttempt(id, principal.Id, principal.Name, verb, Accepted: false, Note: null, DecisionLog.Now(time));
        if (!principal.Has(PrincipalRoles.Approver))
        {
            await decisions.RecordAsync(attempt with { Note = "refused: not an approver" }, ct);
            return Forbidden($"'{principal.Name}' does not hold the approver role and cannot {verb} runs.");
        }

        if (await decisions.AcceptedAsync(id, ct) is { } first)
        {
            // Only a caller four eyes would let decide makes the recorded decision reach the run.
            var delivered = !principal.Is(RequesterIdOf(run)) && await DeliverUnreachedAsync(run, first, ct);
            await decisions.RecordAsync(attempt with { Note = $"refused: already {DecisionLog.Past(first.Decision)} by {first.PrincipalName}" + (delivered ? UnreachedNote : string.Empty) }, ct);
            return AlreadyDecided(id, first, delivered);
        }

        var status = ApiJson.Read<RestoreStatus>(run.CustomStatus);
        if (!run.IsActive || status is not { AwaitingApproval: true })
        {
            var decided = status?.Decisions?.FirstOrDefault(d => d.Accepted);
            await decisions.RecordAsync(attempt with { Note = "refused: the run was not awaiting a decision" }, ct);
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: decided is null ? "Not awaiting approval" : "Already decided",
                detail: decided is null
                    ? $"Run '{id}' is {run.RuntimeStatus}{(status is null ? string.Empty : $" ({status.Phase})")} and is not waiting for a decision."
                    : $"Run '{id}' was already {(decided.Decision == "reject" ? "rejected" : decided.Decision == "override" ? "approved by an operator override" : "approved")} by {decided.By} at {decided.At:O}.");
        }

        if (principal.Is(RequesterIdOf(run)))
        {
            await decisions.RecordAsync(attempt with { Note = "refused: four eyes — the requester cannot decide their own run" }, ct);
            return Forbidden($"'{principal.Name}' requested this run and cannot also {verb} it: four eyes need a second person.", title: "Four eyes");
        }

        var comment = body?.Comment;
        if (await decisions.RecordAsync(attempt with { Accepted = true, Note = comment }, ct) is { } winner)
        {
            return AlreadyDecided(id, winner);
        }

        try
        {
            await runs.RaiseEventAsync(id, RestoreEvents.Approval, new ApprovalDecision(approved, principal.Name, comment, principal.Id, attempt.AttemptedAt), ct);
        }
        catch (InvalidOperationException)
        {
            await decisions.WithdrawAsync(id, "refused: the run ended before the decision reached it", ct);
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not awaiting approval", detail: $"Run '{id}' ended before the decision reached it.");
        }

        return TypedResults.Json(
            new { id, decision = approved ? "approved" : "rejected", by = principal.Name, message = "decision submitted; the run acts on it at once — follow statusQueryGetUri" },
            statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary><c>POST /api/restores/{id}/cancel</c>: for the run's requester and operators.</summary>
    public async Task<IResult> CancelAsync(string id, ReasonBody? body, Principal principal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var run = await runs.GetAsync(id, ct);
        if (run is null || !RestoreTenantOrchestrator.TakesDecisions(run.Name))
        {
            return UnknownRun(id);
        }

        if (!principal.Is(RequesterIdOf(run)) && !principal.Has(PrincipalRoles.Operator))
        {
            return Forbidden($"Only the run's requester or an operator may cancel it; '{principal.Name}' is neither.");
        }

        if (!run.IsActive)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not running", detail: $"Run '{id}' is {run.RuntimeStatus}.");
        }

        await runs.RaiseEventAsync(id, RestoreEvents.Cancel, new CancelRequest(principal.Name, body?.Reason), ct);
        return TypedResults.Json(new { id, message = "cancel requested: the run stops at its next step and undoes what it did (a cutover already under way is finished, not undone)" },
            statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// <c>POST /api/restores/{id}/rollback</c>: starts a rollback run of a restore that reached its cutover (completed, or
    /// failed after it). The rollback itself waits for a second person's approval unless an operator overrides. A failed or
    /// stopped rollback can be requested again (<c>-rollback-2</c>, …).
    /// </summary>
    public async Task<IResult> RollbackAsync(string id, RollbackBody? body, Principal principal, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var run = await runs.GetAsync(id, ct);
        if (run is null)
        {
            return UnknownRun(id);
        }

        if (run.Name == RollbackOrchestrator.Name)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not a restore run",
                detail: $"'{id}' is a rollback run; a rollback cannot itself be rolled back. To return to the restored copy, start a new restore.");
        }

        if (!RestoreTenantOrchestrator.IsRestore(run.Name))
        {
            return UnknownRun(id);
        }

        var overriding = body?.Override == true;
        if (!principal.Has(overriding ? PrincipalRoles.Operator : PrincipalRoles.Requester))
        {
            return Forbidden(overriding
                ? $"Only an operator may roll back without a second person's approval; '{principal.Name}' is not one."
                : $"'{principal.Name}' does not hold the requester role and cannot request a rollback.");
        }

        var request = ApiJson.Read<RestoreRequest>(run.Input)!;
        var status = ApiJson.Read<RestoreStatus>(run.CustomStatus);
        var reachedCutover = status?.Steps.Any(s => s.Name == RestoreSteps.Cutover) == true;
        if (run.IsActive || request.Mode != RestoreMode.Restore || !reachedCutover)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to roll back",
                detail: run.IsActive
                    ? $"Run '{id}' is still {run.RuntimeStatus}; cancel it instead, or wait for it to end."
                    : $"Run '{id}' never reached its cutover ({run.RuntimeStatus}{(status is null ? string.Empty : $", {status.Phase}")}): the tenant's database was not replaced.");
        }

        var rollback = new RollbackRequest(id, request.Tenant, request.RestoreTime, body?.Reason?.Trim() is { Length: > 0 } reason ? reason : "rollback requested", principal.Name)
        {
            RequestedById = principal.Id,
            Strategy = request.Strategy,
            Override = overriding,
            Settings = settings,
        };
        for (var attempt = 1; attempt <= 20; attempt++)
        {
            var rollbackId = attempt == 1 ? id + "-rollback" : $"{id}-rollback-{attempt}";
            if (await runs.GetAsync(rollbackId, ct) is { } earlier)
            {
                var outcome = ApiJson.Read<RestoreResult>(earlier.Output)?.Outcome;
                if (earlier.IsActive || outcome == RestoreOutcome.RolledBack)
                {
                    return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: earlier.IsActive ? "Rollback already requested" : "Already rolled back",
                        detail: $"See run '{rollbackId}' ({earlier.RuntimeStatus}{(outcome is null ? string.Empty : $", {outcome}")}).");
                }

                continue; // failed, rejected, timed out or cancelled: a new attempt gets the next id
            }

            try
            {
                await runs.StartAsync(RollbackOrchestrator.Name, rollbackId, rollback, request.Tenant, ct);
            }
            catch (RunExistsException)
            {
                continue;
            }
            catch (TenantBusyException e)
            {
                return Busy(request.Tenant, e.RunningInstanceId);
            }

            return Accepted(http, rollbackId);
        }

        return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Too many rollback attempts", detail: $"Run '{id}' has 20 rollback runs already; finish by hand.");
    }

    private async Task<object?> MergedStatusAsync(RunInfo run, CancellationToken ct)
    {
        if (run.CustomStatus is not { ValueKind: JsonValueKind.Object } custom)
        {
            return run.CustomStatus is null && (!run.OrchestratorKnown || run.Redeliveries is { Count: > 0 })
                ? await MergedStatusAsync(run with { CustomStatus = JsonDocument.Parse("{}").RootElement.Clone() }, ct)
                : run.CustomStatus;
        }

        var merged = JsonObject.Create(custom)!;
        if (run.Redeliveries is { Count: > 0 } redeliveries)
        {
            // A crash or a lost lease re-delivers an activity: shown, instead of a step that merely looks slow.
            merged["redeliveries"] = JsonSerializer.SerializeToNode(redeliveries, ApiJson.Options);
        }

        if (!run.OrchestratorKnown && run.IsActive)
        {
            merged["operatorAction"] =
                $"This run was started by an RcmPitr version whose orchestrator '{run.Name}' this host does not run. It waits, untouched, " +
                "for a host of that version to finish it: run that version until the run ends (the tenant may stay frozen by it meanwhile).";
        }

        try
        {
            if (progress is not null && await progress.GetAsync(run.InstanceId, ct) is { } row)
            {
                merged["transfer"] = JsonSerializer.SerializeToNode(TransferStatus.From(row, time.GetUtcNow()), ApiJson.Options);
            }

            if (parityReports is not null && custom.TryGetProperty("parity", out var parity) && parity.ValueKind == JsonValueKind.Object &&
                parity.TryGetProperty("rowsOmitted", out var omitted) && omitted.ValueKind == JsonValueKind.Number &&
                await parityReports.GetAsync(run.InstanceId, ct) is { } full)
            {
                merged["parity"] = JsonSerializer.SerializeToNode(full, ApiJson.Options);
            }

            if (RestoreTenantOrchestrator.TakesDecisions(run.Name))
            {
                // The run records what reached it; the attempts refused at the door are only here.
                var refused = (await decisions.AttemptsAsync(run.InstanceId, ct)).Where(a => !a.Accepted).ToList();
                if (refused.Count > 0)
                {
                    var list = ApiJson.Read<RestoreStatus>(custom)?.Decisions?.ToList() ?? [];
                    list.AddRange(refused.Select(a => new DecisionRecord(a.AttemptedAt.UtcDateTime, a.PrincipalName, a.Decision, Accepted: false, a.Note)));
                    merged[ApiJson.Options.PropertyNamingPolicy!.ConvertName(nameof(RestoreStatus.Decisions))] =
                        JsonSerializer.SerializeToNode(list.OrderBy(d => d.At).ToList(), ApiJson.Options);
                }
            }
        }
        catch (NpgsqlException)
        {
            // A master briefly unreachable (or without RcmPitr's tables): the status goes out with what the run itself published.
        }

        return merged;
    }

    private async Task<string?> ActiveRunOfAsync(string tenant, CancellationToken ct) =>
        (await runs.ListAsync(tenant, null, ct)).FirstOrDefault(r => r.IsActive && RestoreTenantOrchestrator.TakesDecisions(r.Name) && TenantOf(r) == tenant)?.InstanceId;

    /// <summary>
    /// Run ids of a tenant start with this (the Functions host lists a tenant's runs by it). Slugs never contain
    /// <c>--</c>, so one tenant's prefix is never the prefix of another's (<c>acme</c> vs <c>acme-corp</c>).
    /// </summary>
    public static string RunIdPrefix(string tenant) => $"restore-{tenant}--";

    private static string? RequesterIdOf(RunInfo run) => run.Name == RollbackOrchestrator.Name
        ? ApiJson.Read<RollbackRequest>(run.Input) is { } rollback ? rollback.RequestedById ?? rollback.RequestedBy : null
        : ApiJson.Read<RestoreRequest>(run.Input)?.RequesterId;

    private static string? TenantOf(RunInfo run) =>
        run.Input is { ValueKind: JsonValueKind.Object } input && input.TryGetProperty("tenant", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

    private static RunListItem ToListItem(RunInfo run)
    {
        var status = ToStatus(run);
        DateTimeOffset? restoreTime = null;
        if (run.Input is { ValueKind: JsonValueKind.Object } input && input.TryGetProperty("restoreTime", out var rt) && rt.TryGetDateTimeOffset(out var parsed))
        {
            restoreTime = parsed;
        }

        var kind = run.Name switch
        {
            RollbackOrchestrator.Name => "rollback",
            RetentionDropOrchestrator.Name => "retention",
            _ => ApiJson.Read<RestoreRequest>(run.Input)?.Mode switch
            {
                RestoreMode.DryRun => "dry-run",
                RestoreMode.Snapshot => "snapshot",
                _ => "restore",
            },
        };
        var outcome = run.RuntimeStatus switch
        {
            "Completed" when run.Output is { ValueKind: JsonValueKind.Object } output && output.TryGetProperty("outcome", out var o) => o.ToString(),
            "Completed" => "Completed",
            "Failed" or "Terminated" => run.RuntimeStatus,
            _ => null,
        };
        return new RunListItem(run.InstanceId, run.Name, run.RuntimeStatus, run.CreatedTime, run.LastUpdatedTime, TenantOf(run), kind, restoreTime, outcome,
            status.Input, status.CustomStatus, status.Output);
    }

    private static IResult Busy(string tenant, string holder) => ToResult(BusyRefusal(tenant, holder));

    private static TenantRefusal BusyRefusal(string tenant, string holder) =>
        new(StatusCodes.Status409Conflict, "Tenant already being restored",
            $"Tenant '{tenant}' is held by run '{holder}' (GET {Route}/{holder}). One run per tenant at a time: wait for it to end, or cancel it.");

    /// <summary>
    /// The accepted decision is recorded before it is raised: a host that dies between the two leaves the run awaiting a
    /// decision the log says was taken, and every later one refused. A later attempt that finds the run still awaiting, with
    /// no accepted decision in its timeline, raises the recorded decision again — the first decision still wins, and a run
    /// takes one decision, so a copy of one already on its way is never read. True when it was raised.
    /// </summary>
    private async Task<bool> DeliverUnreachedAsync(RunInfo run, DecisionAttempt first, CancellationToken ct)
    {
        var status = ApiJson.Read<RestoreStatus>(run.CustomStatus);
        if (!run.IsActive || status is not { AwaitingApproval: true } || status.Decisions?.Any(d => d.Accepted) == true)
        {
            return false;
        }

        try
        {
            await runs.RaiseEventAsync(run.InstanceId, RestoreEvents.Approval, new ApprovalDecision(first.Decision == "approve", first.PrincipalName, first.Note, first.PrincipalId, first.AttemptedAt), ct);
            return true;
        }
        catch (InvalidOperationException)
        {
            // It ended meanwhile.
            return false;
        }
    }

    private static IResult AlreadyDecided(string id, DecisionAttempt first, bool delivered = false) =>
        Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already decided",
            detail: $"Run '{id}' was already {DecisionLog.Past(first.Decision)} by {first.PrincipalName} at {first.AttemptedAt.UtcDateTime:O}; later decisions are refused" +
                    (delivered ? UnreachedNote + "." : "."),
            extensions: delivered ? new Dictionary<string, object?> { [RedeliveredField] = DecisionLog.Past(first.Decision) } : null);

    /// <summary>
    /// On a 409 whose recorded decision had not reached the run and was raised again by this attempt: that decision
    /// (<c>approved</c> or <c>rejected</c>), which is the one the run takes.
    /// </summary>
    public const string RedeliveredField = "redelivered";

    /// <summary>A 403 problem (the routes of batches and drills answer with it too).</summary>
    internal static IResult Forbidden(string detail, string title = "Forbidden") =>
        Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: title, detail: detail);

    private static IResult Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The restore request is invalid.");

    private static IResult UnknownRun(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown run", detail: $"No restore run with id '{id}'.");

    private IResult Accepted(HttpContext http, string id)
    {
        var root = RunAddresses.Status((links ?? new ApiLinkOptions()).BaseFor(http.Request.Scheme, http.Request.Host.ToString()), id);
        return TypedResults.Accepted(root, new RunLinks(id, root, root + "/approve", root + "/reject", root + "/cancel", root + "/rollback"));
    }

    private static RunStatus ToStatus(RunInfo run) => new(
        run.InstanceId, run.Name, run.RuntimeStatus, run.CreatedTime, run.LastUpdatedTime, run.Input, run.CustomStatus,
        run.RuntimeStatus == "Failed" ? run.FailureMessage : run.Output);
}
