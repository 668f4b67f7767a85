using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Api.Batches;

/// <summary>
/// The batch routes (<c>/api/restore-batches</c>): start a batch of tenants restored to one time with one restored server per
/// source server, read it, decide it (one decision applied to every member awaiting one — four eyes in each member run), and
/// cancel it. Every member is checked as a single start would be before anything starts: one refused tenant refuses the
/// batch, naming each tenant's problem, and nothing is frozen or provisioned.
/// </summary>
public sealed class RestoreBatchHandlers(
    IRestoreRuns runs,
    RestoreApiHandlers restores,
    TenantResolver tenants,
    RestoreSettings settings,
    BatchSettings batchSettings,
    TimeProvider time,
    ApiLinkOptions? links = null)
{
    /// <summary>The routes' common prefix.</summary>
    public const string Route = "/api/restore-batches";

    /// <summary>Every batch id starts with this.</summary>
    public const string IdPrefix = "batch-";

    /// <summary><c>POST /api/restore-batches</c>.</summary>
    public async Task<IResult> StartAsync(StartBatchBody? body, Principal principal, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(http);
        if (!principal.Has(PrincipalRoles.Requester))
        {
            return RestoreApiHandlers.Forbidden($"'{principal.Name}' does not hold the requester role and cannot start runs.");
        }

        var (validated, errors) = RequestValidation.Validate(body, time.GetUtcNow());
        if (validated is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The batch request is invalid.");
        }

        var common = validated.Common with { RestoreTime = RestoreStamp.WholeSecond(validated.Common.RestoreTime) };
        var skipped = new List<object>();
        IReadOnlyList<string> slugs;
        if (validated.Server is { } server)
        {
            var onServer = await tenants.TenantsOnServerAsync(server, ct);
            if (onServer is null)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown server", detail: $"No server '{server}' is registered (identity.db_server).");
            }

            // A restore replaces live databases: only active tenants take part. A dry run or a copy as of T reads, so all do. A
            // registered slug that today's rules refuse is listed, not fatal to the batch.
            var chosen = onServer.Where(t => (common.Mode != RestoreMode.Restore || t.Status == TenantStatus.Active) && TenantSlug.TryParse(t.Slug, out _, out _))
                .Select(t => t.Slug).ToList();
            skipped.AddRange(onServer.Where(t => !chosen.Contains(t.Slug)).Select(t => new
            {
                tenant = RequestValidation.Echo(t.Slug),
                reason = TenantSlug.TryParse(t.Slug, out _, out var problem)
                    ? $"status {TenantStatusText.ToText(t.Status)}: only active tenants are restored"
                    : $"not a valid tenant slug ({problem}); restore it by hand",
            }));
            if (chosen.Count == 0)
            {
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "No tenants", detail: $"Server '{server}' has no {(common.Mode == RestoreMode.Restore ? "active " : string.Empty)}tenant to {ModeVerb(common.Mode)}.");
            }

            if (chosen.Count > RestoreBatchRequest.MaxMembers)
            {
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["server"] = [$"'{server}' has {chosen.Count} tenants; a batch takes at most {RestoreBatchRequest.MaxMembers}: list them in several batches (tenants)"] },
                    title: "The batch request is invalid.");
            }

            slugs = chosen;
        }
        else
        {
            slugs = validated.Tenants.Select(t => t.Value).ToList();
        }

        // Every tenant as a single start would check it; one refusal refuses the batch, and nothing has started.
        var members = new List<BatchMember>();
        var refusals = new List<(string Tenant, TenantRefusal Refusal)>();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var stamp = RestoreStamp.From(common.RestoreTime);
        foreach (var slug in slugs)
        {
            var (tenant, refusal) = await restores.CheckTenantAsync(slug, common with { Tenant = TenantSlug.Parse(slug) }, ct);
            if (tenant is null)
            {
                refusals.Add((slug, refusal!));
                continue;
            }

            members.Add(new BatchMember(slug, $"{RestoreApiHandlers.RunIdPrefix(slug)}{stamp.Value}-{tag}", tenant.Server.Name));
        }

        if (refusals.Count > 0)
        {
            var status = refusals.Select(r => r.Refusal.Status).Contains(StatusCodes.Status400BadRequest) ? StatusCodes.Status400BadRequest
                : refusals.Select(r => r.Refusal.Status).Contains(StatusCodes.Status404NotFound) ? StatusCodes.Status404NotFound
                : StatusCodes.Status409Conflict;
            return Results.Problem(
                statusCode: status,
                title: "Batch refused",
                detail: $"{refusals.Count} of {slugs.Count} tenants cannot be started now, so none was: " + string.Join("; ", refusals.Select(r => $"{r.Tenant}: {r.Refusal.Title}")),
                extensions: new Dictionary<string, object?>
                {
                    ["tenants"] = refusals.Select(r => new { tenant = r.Tenant, status = r.Refusal.Status, title = r.Refusal.Title, detail = r.Refusal.Detail, problems = r.Refusal.Problems }).ToList(),
                });
        }

        var id = $"{IdPrefix}{stamp.Value}-{tag}";
        var request = new RestoreBatchRequest(members, common.RestoreTime, common.Mode, common.Strategy, common.Reason, principal.Name, validated.Server is { } s ? $"server:{s}" : "tenants")
        {
            Transfer = common.Transfer,
            RequestedById = principal.Id,
            Parallelism = validated.Parallelism ?? Math.Clamp(batchSettings.Parallelism, 1, BatchSettings.MaxParallelism),
            PollInterval = batchSettings.PollInterval > TimeSpan.Zero ? batchSettings.PollInterval : BatchSettings.DefaultPollInterval,
            MaxPollInterval = batchSettings.MaxPollInterval,
            Settings = settings,
        };
        await runs.StartBatchAsync(id, request, ct);
        var root = BaseOf(http);
        var self = $"{root.TrimEnd('/')}{Route}/{id}";
        return TypedResults.Accepted(self, new
        {
            id,
            statusQueryGetUri = self,
            approveUri = self + "/approve",
            rejectUri = self + "/reject",
            cancelUri = self + "/cancel",
            members = members.Select(m => new { tenant = m.Tenant, runId = m.RunId, server = m.Server, statusQueryGetUri = RunAddresses.Status(root, m.RunId) }).ToList(),
            skipped,
        });
    }

    /// <summary><c>GET /api/restore-batches/{id}</c>: Durable's status-query shape; 202 with Retry-After while it runs.</summary>
    public async Task<IResult> GetAsync(string id, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (await FindAsync(id, ct) is not { } batch)
        {
            return UnknownBatch(id);
        }

        return RestoreApiHandlers.StatusAnswer(batch, http);
    }

    /// <summary><c>GET /api/restore-batches</c>: batches, newest first, with their counts.</summary>
    public async Task<IResult> ListAsync(CancellationToken ct)
    {
        var list = await runs.ListBatchesAsync(IdPrefix, ct);
        return TypedResults.Json(list.Select(b =>
        {
            var request = ApiJson.Read<RestoreBatchRequest>(b.Input);
            var status = ApiJson.Read<RestoreBatchStatus>(b.CustomStatus is { ValueKind: JsonValueKind.Object } ? b.CustomStatus : null);
            var result = ApiJson.Read<RestoreBatchResult>(b.Output is { ValueKind: JsonValueKind.Object } ? b.Output : null);
            return new
            {
                instanceId = b.InstanceId,
                runtimeStatus = b.RuntimeStatus,
                createdTime = b.CreatedTime,
                lastUpdatedTime = b.LastUpdatedTime,
                mode = request?.Mode.ToString(),
                restoreTime = request?.RestoreTime,
                selector = request?.Selector,
                requestedBy = request?.RequestedBy,
                tenants = request?.Members.Select(m => m.Tenant).ToList(),
                phase = status?.Phase,
                counts = result?.Counts ?? status?.Counts,
                outcome = result?.Outcome.ToString(),
            };
        }).ToList(), ApiJson.Options);
    }

    /// <summary>
    /// <c>POST /api/restore-batches/{id}/approve</c> and <c>/reject</c>: one decision for the batch, applied to every member run
    /// that awaits one, each through the same route as a decision by hand (four eyes, first decision wins, every attempt
    /// recorded). It is taken only once every member still going awaits its decision, so the approver has seen every parity
    /// verdict and change report; until then the answer names the members still moving.
    /// </summary>
    public async Task<IResult> DecideAsync(string id, bool approved, DecisionBody? body, Principal principal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (await FindAsync(id, ct) is not { } batch || ApiJson.Read<RestoreBatchRequest>(batch.Input) is not { } request)
        {
            return UnknownBatch(id);
        }

        var verb = approved ? "approve" : "reject";
        if (!principal.Has(PrincipalRoles.Approver))
        {
            return RestoreApiHandlers.Forbidden($"'{principal.Name}' does not hold the approver role and cannot {verb} runs.");
        }

        if (principal.Is(request.RequesterId))
        {
            return RestoreApiHandlers.Forbidden($"'{principal.Name}' requested this batch and cannot also {verb} it: four eyes need a second person.", title: "Four eyes");
        }

        var published = ApiJson.Read<RestoreBatchStatus>(batch.CustomStatus is { ValueKind: JsonValueKind.Object } ? batch.CustomStatus : null);
        var awaiting = new List<BatchMember>();
        var notReady = new List<object>();
        foreach (var member in request.Members)
        {
            var line = published?.Members.FirstOrDefault(m => m.RunId == member.RunId);
            var run = await runs.GetAsync(member.RunId, ct);
            if (run is null)
            {
                if (batch.IsActive && line is not { Final: true })
                {
                    notReady.Add(new { tenant = member.Tenant, runId = member.RunId, state = BatchMemberStates.Waiting });
                }

                continue;
            }

            var state = BatchActivities.StateOf(run);
            if (state.AwaitingApproval)
            {
                awaiting.Add(member);
            }
            else if (!state.Ended)
            {
                notReady.Add(new { tenant = member.Tenant, runId = member.RunId, state = BatchMemberStates.Running, step = state.Step });
            }
        }

        if (notReady.Count > 0 || awaiting.Count == 0)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Not awaiting approval",
                detail: notReady.Count > 0
                    ? $"Batch '{id}': {notReady.Count} member(s) have not reached their approval yet; a batch decision is taken once every member still going awaits one (or decide members one by one)."
                    : $"Batch '{id}' has no member awaiting a decision.",
                extensions: new Dictionary<string, object?> { ["tenants"] = notReady });
        }

        var decisions = new List<BatchMemberDecision>();
        foreach (var member in awaiting)
        {
            var result = await restores.DecideAsync(member.RunId, approved, body, principal, ct);
            var code = (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status500InternalServerError;
            var problem = (result as ProblemHttpResult)?.ProblemDetails;
            // A decision recorded earlier (a batch decision cut short by a crash) that this attempt made reach its member counts
            // as that member's decision: it is the one the member takes.
            var redelivered = problem?.Extensions.TryGetValue(RestoreApiHandlers.RedeliveredField, out var recorded) == true ? recorded as string : null;
            decisions.Add(new BatchMemberDecision(
                member.Tenant,
                member.RunId,
                code,
                code == StatusCodes.Status202Accepted ? (approved ? "approved" : "rejected") : redelivered,
                code == StatusCodes.Status202Accepted ? null : problem?.Detail));
        }

        var accepted = decisions.Count(d => d.Decision is not null);
        return TypedResults.Json(
            new { id, decision = approved ? "approved" : "rejected", by = principal.Name, accepted, members = decisions },
            ApiJson.Options,
            statusCode: accepted > 0 ? StatusCodes.Status202Accepted : StatusCodes.Status409Conflict);
    }

    /// <summary><c>POST /api/restore-batches/{id}/cancel</c>: the members not started are not started; the running ones are asked to stop.</summary>
    public async Task<IResult> CancelAsync(string id, ReasonBody? body, Principal principal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (await FindAsync(id, ct) is not { } batch || ApiJson.Read<RestoreBatchRequest>(batch.Input) is not { } request)
        {
            return UnknownBatch(id);
        }

        if (!principal.Is(request.RequesterId) && !principal.Has(PrincipalRoles.Operator))
        {
            return RestoreApiHandlers.Forbidden($"Only the batch's requester or an operator may cancel it; '{principal.Name}' is neither.");
        }

        if (!batch.IsActive)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not running", detail: $"Batch '{id}' is {batch.RuntimeStatus}.");
        }

        await runs.RaiseEventAsync(id, RestoreEvents.Cancel, new CancelRequest(principal.Name, body?.Reason), ct);
        return TypedResults.Json(
            new { id, message = "cancel requested: members not started yet will not start; running members stop at their next step and undo what they did (a cutover under way is finished)" },
            statusCode: StatusCodes.Status202Accepted);
    }

    private async Task<RunInfo?> FindAsync(string id, CancellationToken ct) =>
        (id.StartsWith(IdPrefix, StringComparison.Ordinal) || id.StartsWith(Drills.DrillStarter.IdPrefix, StringComparison.Ordinal)) &&
        await runs.GetAsync(id, ct) is { Name: RestoreBatchOrchestrator.Name } batch ? batch : null;

    private string BaseOf(HttpContext http) => (links ?? new ApiLinkOptions()).BaseFor(http.Request.Scheme, http.Request.Host.ToString());

    private static string ModeVerb(RestoreMode mode) => mode switch
    {
        RestoreMode.Restore => "restore",
        RestoreMode.DryRun => "dry-run",
        _ => "copy",
    };

    private static IResult UnknownBatch(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown batch", detail: $"No batch with id '{RequestValidation.Echo(id)}'.");
}

/// <summary>What a batch decision did to one member: 202 and the decision, or the member route's refusal.</summary>
public sealed record BatchMemberDecision(string Tenant, string RunId, int Status, string? Decision, string? Detail);
