using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Api;
using RcmPitr.Api.Recoveries;
using RcmPitr.Postgres.Operations;

namespace RcmPitr.Functions.Http;

/// <summary>The region-loss routes (<c>/api/server-recoveries</c>) on Azure Functions: the embedded host's routes and JSON (<see cref="ServerRecoveryHandlers"/>).</summary>
public sealed partial class RestoreHttpFunctions
{
    /// <summary><c>POST /api/server-recoveries</c>: recover every tenant of a lost server from its geo-backup.</summary>
    [Function("StartServerRecovery")]
    public Task<IActionResult> StartRecovery(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/server-recoveries")] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, async principal =>
        {
            var (body, problem) = await ApiRequestBody.ReadServerRecoveryAsync(request, request.HttpContext.RequestAborted);
            return problem ?? await limiter.LimitAsync(principal, () => Recoveries(request, client).StartAsync(body, principal, request.HttpContext, request.HttpContext.RequestAborted));
        });

    /// <summary><c>GET /api/server-recoveries</c>.</summary>
    [Function("ListServerRecoveries")]
    public Task<IActionResult> ListRecoveries(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/server-recoveries")] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, _ => Recoveries(request, client).ListAsync(request.HttpContext.RequestAborted));

    /// <summary><c>GET /api/server-recoveries/{id}</c>.</summary>
    [Function("GetServerRecovery")]
    public Task<IActionResult> GetRecovery(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/server-recoveries/{id}")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, _ => Recoveries(request, client).GetAsync(id, request.HttpContext, request.HttpContext.RequestAborted));

    /// <summary><c>POST /api/server-recoveries/{id}/approve</c>.</summary>
    [Function("ApproveServerRecovery")]
    public Task<IActionResult> ApproveRecovery(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/server-recoveries/{id}/approve")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, principal => DecideRecoveryAsync(request, id, approved: true, client, principal));

    /// <summary><c>POST /api/server-recoveries/{id}/reject</c>.</summary>
    [Function("RejectServerRecovery")]
    public Task<IActionResult> RejectRecovery(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/server-recoveries/{id}/reject")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, principal => DecideRecoveryAsync(request, id, approved: false, client, principal));

    private async Task<IResult> DecideRecoveryAsync(HttpRequest request, string id, bool approved, DurableTaskClient client, Principal principal)
    {
        var (body, problem) = await ApiRequestBody.ReadDecisionAsync(request, request.HttpContext.RequestAborted);
        return problem ?? await Recoveries(request, client).DecideAsync(id, approved, body, principal, request.HttpContext.RequestAborted);
    }

    // The recovery's operations come from the request's services (registered by AddRestoreActivities), so the class's constructor,
    // shared by every route family, stays as it is.
    private ServerRecoveryHandlers Recoveries(HttpRequest request, DurableTaskClient client) =>
        new(new DurableRestoreRuns(client, tenantRuns), request.HttpContext.RequestServices.GetRequiredService<ServerRecovery>(), settings, time, links);
}
