using System.Runtime.Versioning;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using RcmPitr.Api;
using RcmPitr.Api.Batches;
using RcmPitr.Functions.Composition;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Http;

/// <summary>
/// The restores API on Azure Functions: the embedded host's routes and JSON (<see cref="RestoreApiHandlers"/>),
/// behind function keys. Who calls is the principal App Service authentication verified (<see cref="AppServicePrincipal"/>:
/// the Entra object id, a name, app roles mapped by <see cref="AuthOptions"/>); without a valid client principal the
/// request is refused with 401 — never taken from <c>X-MS-CLIENT-PRINCIPAL-NAME</c>, which a client can set.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class RestoreHttpFunctions(
    TenantResolver tenants, IServerProvisioner provisioner, RestoreSettings settings, TimeProvider time, AuthOptions auth, StartRateLimiter limiter,
    DecisionLog decisions, TenantRunLock tenantRuns, RestorePreflight? preflight = null, TransferProgressStore? progress = null, ApiLinkOptions? links = null,
    ParityReportStore? parityReports = null, ChangeReportStore? changeReports = null, BatchSettings? batchSettings = null)
{
    /// <summary>The header App Service authentication sets to the signed-in principal's claims.</summary>
    public const string PrincipalHeader = AppServicePrincipal.Header;

    private readonly IReadOnlyDictionary<string, string> _appRoles = (auth ?? throw new ArgumentNullException(nameof(auth))).Roles.ToMap();

    /// <summary><c>POST /api/restores</c>.</summary>
    [Function("StartRestore")]
    public Task<IActionResult> Start(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/restores")] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, async principal =>
        {
            var (body, problem) = await ApiRequestBody.ReadStartAsync(request, request.HttpContext.RequestAborted);
            return problem ?? await limiter.LimitAsync(principal, () => Handlers(client).StartAsync(body, principal, request.HttpContext, request.HttpContext.RequestAborted));
        });

    /// <summary><c>GET /api/restores/{id}</c>.</summary>
    [Function("GetRestore")]
    public Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/restores/{id}")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, _ => Handlers(client).GetAsync(id, request.HttpContext, request.HttpContext.RequestAborted));

    /// <summary><c>GET /api/restores/{id}/changes</c>: the run's change report.</summary>
    [Function("GetRestoreChanges")]
    public Task<IActionResult> Changes(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/restores/{id}/changes")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, principal => Handlers(client).ChangesAsync(id, csv: false, principal, request.HttpContext.RequestAborted));

    /// <summary><c>GET /api/restores/{id}/changes.csv</c>: the change report's sampled keys as CSV.</summary>
    [Function("GetRestoreChangesCsv")]
    public Task<IActionResult> ChangesCsv(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/restores/{id}/changes.csv")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, principal => Handlers(client).ChangesAsync(id, csv: true, principal, request.HttpContext.RequestAborted));

    /// <summary><c>GET /api/restores?tenant=&amp;status=</c>.</summary>
    [Function("ListRestores")]
    public Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/restores")] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, _ => Handlers(client).ListAsync(Query(request, "tenant"), Query(request, "status"), request.HttpContext.RequestAborted, Query(request, "kind")));

    /// <summary><c>POST /api/restores/{id}/approve</c>.</summary>
    [Function("ApproveRestore")]
    public Task<IActionResult> Approve(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/restores/{id}/approve")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, principal => DecideAsync(request, id, approved: true, client, principal));

    /// <summary><c>POST /api/restores/{id}/reject</c>.</summary>
    [Function("RejectRestore")]
    public Task<IActionResult> Reject(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/restores/{id}/reject")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, principal => DecideAsync(request, id, approved: false, client, principal));

    /// <summary><c>POST /api/restores/{id}/cancel</c>.</summary>
    [Function("CancelRestore")]
    public Task<IActionResult> Cancel(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/restores/{id}/cancel")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, async principal =>
        {
            var (body, problem) = await ApiRequestBody.ReadReasonAsync(request, request.HttpContext.RequestAborted);
            return problem ?? await Handlers(client).CancelAsync(id, body, principal, request.HttpContext.RequestAborted);
        });

    /// <summary><c>POST /api/restores/{id}/rollback</c>.</summary>
    [Function("RollbackRestore-Http")]
    public Task<IActionResult> Rollback(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/restores/{id}/rollback")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, async principal =>
        {
            var (body, problem) = await ApiRequestBody.ReadRollbackAsync(request, request.HttpContext.RequestAborted);
            // A rollback starts a run: it counts against the principal's starts like a restore.
            return problem ?? await limiter.LimitAsync(principal, () => Handlers(client).RollbackAsync(id, body, principal, request.HttpContext, request.HttpContext.RequestAborted));
        });

    /// <summary><c>GET /api/me</c>: the verified caller's id, name and roles (the web page tells the requester from an approver by it).</summary>
    [Function("GetCaller")]
    public Task<IActionResult> Me([HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/me")] HttpRequest request) =>
        AuthenticatedAsync(request, principal => Task.FromResult<IResult>(TypedResults.Json(CallerInfo.From(principal))));

    /// <summary><c>POST /api/restore-batches</c>: many tenants to one time, one restored server per source server.</summary>
    [Function("StartRestoreBatch")]
    public Task<IActionResult> StartBatch(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/restore-batches")] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, async principal =>
        {
            var (body, problem) = await ApiRequestBody.ReadBatchStartAsync(request, request.HttpContext.RequestAborted);
            return problem ?? await limiter.LimitAsync(principal, () => Batches(client).StartAsync(body, principal, request.HttpContext, request.HttpContext.RequestAborted));
        });

    /// <summary><c>GET /api/restore-batches</c>.</summary>
    [Function("ListRestoreBatches")]
    public Task<IActionResult> ListBatches(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/restore-batches")] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, _ => Batches(client).ListAsync(request.HttpContext.RequestAborted));

    /// <summary><c>GET /api/restore-batches/{id}</c>.</summary>
    [Function("GetRestoreBatch")]
    public Task<IActionResult> GetBatch(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/restore-batches/{id}")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, _ => Batches(client).GetAsync(id, request.HttpContext, request.HttpContext.RequestAborted));

    /// <summary><c>POST /api/restore-batches/{id}/approve</c>.</summary>
    [Function("ApproveRestoreBatch")]
    public Task<IActionResult> ApproveBatch(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/restore-batches/{id}/approve")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, principal => DecideBatchAsync(request, id, approved: true, client, principal));

    /// <summary><c>POST /api/restore-batches/{id}/reject</c>.</summary>
    [Function("RejectRestoreBatch")]
    public Task<IActionResult> RejectBatch(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/restore-batches/{id}/reject")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, principal => DecideBatchAsync(request, id, approved: false, client, principal));

    /// <summary><c>POST /api/restore-batches/{id}/cancel</c>.</summary>
    [Function("CancelRestoreBatch")]
    public Task<IActionResult> CancelBatch(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/restore-batches/{id}/cancel")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, async principal =>
        {
            var (body, problem) = await ApiRequestBody.ReadReasonAsync(request, request.HttpContext.RequestAborted);
            return problem ?? await Batches(client).CancelAsync(id, body, principal, request.HttpContext.RequestAborted);
        });

    private async Task<IResult> DecideBatchAsync(HttpRequest request, string id, bool approved, DurableTaskClient client, Principal principal)
    {
        var (body, problem) = await ApiRequestBody.ReadDecisionAsync(request, request.HttpContext.RequestAborted);
        return problem ?? await Batches(client).DecideAsync(id, approved, body, principal, request.HttpContext.RequestAborted);
    }

    private RestoreBatchHandlers Batches(DurableTaskClient client) =>
        new(new DurableRestoreRuns(client, tenantRuns), Handlers(client), tenants, settings, batchSettings ?? new BatchSettings(), time, links);

    private async Task<IResult> DecideAsync(HttpRequest request, string id, bool approved, DurableTaskClient client, Principal principal)
    {
        var (body, problem) = await ApiRequestBody.ReadDecisionAsync(request, request.HttpContext.RequestAborted);
        return problem ?? await Handlers(client).DecideAsync(id, approved, body, principal, request.HttpContext.RequestAborted);
    }

    private RestoreApiHandlers Handlers(DurableTaskClient client) => new(new DurableRestoreRuns(client, tenantRuns), tenants, provisioner, settings, time, decisions, preflight, progress, links, parityReports, changeReports);

    private async Task<IActionResult> AuthenticatedAsync(HttpRequest request, Func<Principal, Task<IResult>> handle)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!AppServicePrincipal.TryRead(request.Headers, _appRoles, out var principal, out var problem))
        {
            return new ResultActionResult(Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: $"No verified principal ({problem}); App Service authentication must be in front of the function keys."));
        }

        return new ResultActionResult(await handle(principal!));
    }

    private static string? Query(HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value.ToString() : null;
}
