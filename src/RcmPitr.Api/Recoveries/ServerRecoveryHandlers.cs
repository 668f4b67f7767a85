using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using RcmPitr.Postgres.Operations;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Recoveries;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Api.Recoveries;

/// <summary>The body of <c>POST /api/server-recoveries</c>.</summary>
/// <param name="Server">The lost server's name (<c>identity.db_server.name</c>).</param>
/// <param name="Force">Recover even though the server still answers.</param>
public sealed record StartServerRecoveryBody(string? Server, string? Reason, bool? Force = null);

/// <summary>The server has an active recovery.</summary>
public sealed class ServerRecoveryBusyException(string server, string runningInstanceId)
    : Exception($"Server '{server}' already has an active recovery: {runningInstanceId}.")
{
    /// <summary>The active recovery.</summary>
    public string RunningInstanceId { get; } = runningInstanceId;
}

/// <summary>
/// The region-loss routes (<c>/api/server-recoveries</c>): start the recovery of a lost server (every tenant on it re-pointed to a
/// geo-restored server), read it, and decide it — ONE four-eyes decision for the whole recovery. A start is refused before
/// anything happens for an unknown server (404), a server without tenants, one that still answers without <c>force</c>, one
/// with an active recovery, and one whose tenant has an active run (409).
/// </summary>
public sealed class ServerRecoveryHandlers(
    IRestoreRuns runs,
    ServerRecovery recovery,
    RestoreSettings settings,
    TimeProvider time,
    ApiLinkOptions? links = null)
{
    /// <summary>The routes' common prefix.</summary>
    public const string Route = "/api/server-recoveries";

    /// <summary>Every recovery id starts with this: <c>recovery-&lt;server&gt;-&lt;stamp&gt;-&lt;tag&gt;</c>.</summary>
    public const string IdPrefix = "recovery-";

    /// <summary><c>POST /api/server-recoveries</c>.</summary>
    public async Task<IResult> StartAsync(StartServerRecoveryBody? body, Principal principal, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(http);
        if (!principal.Has(PrincipalRoles.Requester))
        {
            return Problem(StatusCodes.Status403Forbidden, "Forbidden", $"'{principal.Name}' does not hold the requester role and cannot start runs.");
        }

        var errors = new Dictionary<string, string[]>();
        string? server = null;
        try
        {
            server = ServerNames.Require(body?.Server, "server");
        }
        catch (InvalidRestoreInputException e)
        {
            errors["server"] = [e.Message];
        }

        var reason = body?.Reason?.Trim();
        if (string.IsNullOrEmpty(reason))
        {
            errors["reason"] = ["a reason is required (it goes into the audit trail)"];
        }
        else if (reason.Length > RequestValidation.MaxReasonLength)
        {
            errors["reason"] = [$"at most {RequestValidation.MaxReasonLength} characters"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The recovery request is invalid.");
        }

        ListServerTenantsResult listed;
        try
        {
            listed = await recovery.ListTenantsAsync(new ListServerTenantsInput(server!), ct);
        }
        catch (InvalidRestoreInputException)
        {
            return Problem(StatusCodes.Status404NotFound, "Unknown server", $"No server '{server}' is registered (identity.db_server).");
        }

        if (listed.Tenants.Count == 0)
        {
            return Problem(StatusCodes.Status409Conflict, "No tenants", $"Server '{server}' has no tenant to recover.");
        }

        var busy = new List<object>();
        foreach (var tenant in listed.Tenants)
        {
            if ((await runs.ListAsync(tenant.Slug, status: null, ct)).FirstOrDefault(r => r.IsActive) is { } active)
            {
                busy.Add(new { tenant = tenant.Slug, runId = active.InstanceId });
            }
        }

        if (busy.Count > 0)
        {
            return Problem(StatusCodes.Status409Conflict, "Tenants busy",
                $"{busy.Count} tenant(s) of '{server}' have an active run; cancel or finish them first (a recovery freezes every tenant).",
                new Dictionary<string, object?> { ["tenants"] = busy });
        }

        var force = body?.Force ?? false;
        if (!force)
        {
            var probe = await recovery.ProbeAsync(new ProbeServerInput(listed.Server), ct);
            if (probe.Reachable)
            {
                return Problem(StatusCodes.Status409Conflict, "Server answers",
                    $"{probe.Detail}: a server that still answers is not recovered. Restore single tenants to a point in time instead, or send \"force\": true if its region must be evacuated.");
            }
        }

        var stamp = RestoreStamp.From(time.GetUtcNow());
        var id = $"{IdPrefix}{server}-{stamp.Value}-{Guid.NewGuid().ToString("N")[..8]}";
        var request = new RecoverServerRequest(server!, stamp.Value, reason!, principal.Name, force) { RequestedById = principal.Id, Settings = settings };
        try
        {
            await runs.StartRecoveryAsync(id, request, server!, ct);
        }
        catch (ServerRecoveryBusyException e)
        {
            return Problem(StatusCodes.Status409Conflict, "Recovery under way", $"Server '{server}' is being recovered by {e.RunningInstanceId}.");
        }

        var self = $"{(links ?? new ApiLinkOptions()).BaseFor(http.Request.Scheme, http.Request.Host.ToString()).TrimEnd('/')}{Route}/{id}";
        return TypedResults.Accepted(self, new
        {
            id,
            statusQueryGetUri = self,
            approveUri = self + "/approve",
            rejectUri = self + "/reject",
            server,
            recoveredServer = ServerNames.Geo(server!, stamp),
            restorePoint = "the latest geo-backup (locally: the newest base backup plus every archived WAL segment), not a point in time",
            tenants = listed.Tenants.Select(t => t.Slug).ToList(),
        });
    }

    /// <summary><c>GET /api/server-recoveries/{id}</c>: Durable's status-query shape; 202 with Retry-After while it runs.</summary>
    public async Task<IResult> GetAsync(string id, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (await FindAsync(id, ct) is not { } run)
        {
            return Unknown(id);
        }

        return RestoreApiHandlers.StatusAnswer(run, http);
    }

    /// <summary><c>GET /api/server-recoveries</c>: recoveries, newest first.</summary>
    public async Task<IResult> ListAsync(CancellationToken ct)
    {
        var list = await runs.ListRecoveriesAsync(ct);
        return TypedResults.Json(list.Select(r =>
        {
            var request = ApiJson.Read<RecoverServerRequest>(r.Input);
            var status = ApiJson.Read<RecoverServerStatus>(r.CustomStatus is { ValueKind: JsonValueKind.Object } ? r.CustomStatus : null);
            var result = ApiJson.Read<RecoverServerResult>(r.Output is { ValueKind: JsonValueKind.Object } ? r.Output : null);
            return new
            {
                instanceId = r.InstanceId,
                runtimeStatus = r.RuntimeStatus,
                createdTime = r.CreatedTime,
                server = request?.Server,
                requestedBy = request?.RequestedBy,
                recoveredServer = status?.RecoveredServer,
                phase = status?.Phase,
                outcome = result?.Outcome.ToString(),
            };
        }).ToList(), ApiJson.Options);
    }

    /// <summary>
    /// <c>POST /api/server-recoveries/{id}/approve</c> and <c>/reject</c>: the one decision of the whole recovery, taken once it awaits
    /// it (the recovered server is Ready and every tenant was checked there). The requester may not decide (four eyes); the
    /// workflow refuses such a decision too, whatever path it took.
    /// </summary>
    public async Task<IResult> DecideAsync(string id, bool approved, DecisionBody? body, Principal principal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (await FindAsync(id, ct) is not { } run || ApiJson.Read<RecoverServerRequest>(run.Input) is not { } request)
        {
            return Unknown(id);
        }

        var verb = approved ? "approve" : "reject";
        if (!principal.Has(PrincipalRoles.Approver))
        {
            return Problem(StatusCodes.Status403Forbidden, "Forbidden", $"'{principal.Name}' does not hold the approver role and cannot {verb} runs.");
        }

        if (principal.Is(request.RequesterId))
        {
            return Problem(StatusCodes.Status403Forbidden, "Four eyes", $"'{principal.Name}' requested this recovery and cannot also {verb} it: four eyes need a second person.");
        }

        var status = ApiJson.Read<RecoverServerStatus>(run.CustomStatus is { ValueKind: JsonValueKind.Object } ? run.CustomStatus : null);
        if (!run.IsActive || status is not { AwaitingApproval: true })
        {
            return Problem(StatusCodes.Status409Conflict, "Not awaiting approval",
                $"Recovery '{id}' is {(run.IsActive ? $"in phase '{status?.Phase}'" : run.RuntimeStatus)}: a decision is taken once the recovered server is Ready and every tenant was checked there.");
        }

        await runs.RaiseEventAsync(id, RestoreEvents.Approval, new ApprovalDecision(approved, principal.Name, body?.Comment, principal.Id, time.GetUtcNow()), ct);
        return TypedResults.Json(new { id, decision = approved ? "approved" : "rejected", by = principal.Name }, ApiJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    private async Task<RunInfo?> FindAsync(string id, CancellationToken ct) =>
        id.StartsWith(IdPrefix, StringComparison.Ordinal) && await runs.GetAsync(id, ct) is { Name: RecoverServerOrchestrator.Name } run ? run : null;

    private static IResult Unknown(string id) =>
        Problem(StatusCodes.Status404NotFound, "Unknown recovery", $"No server recovery with id '{RequestValidation.Echo(id)}'.");

    private static IResult Problem(int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(statusCode: status, title: title, detail: detail, extensions: extensions);
}
