using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Api;
using RcmPitr.Api.Drills;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Batches;

namespace RcmPitr.Functions.Http;

/// <summary>The drill routes on Azure Functions: the embedded host's <c>/api/drills</c> (<see cref="DrillHandlers"/>), behind the same authentication.</summary>
public sealed partial class RestoreHttpFunctions
{
    /// <summary><c>POST /api/drills</c>: a restore drill now.</summary>
    [Function("StartDrill")]
    public Task<IActionResult> StartDrill(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "api/drills")] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, async principal =>
        {
            var (body, problem) = await ApiRequestBody.ReadDrillStartAsync(request, request.HttpContext.RequestAborted);
            return problem ?? await limiter.LimitAsync(principal, () => Drills(request, client).StartAsync(body, principal, request.HttpContext, request.HttpContext.RequestAborted));
        });

    /// <summary><c>GET /api/drills</c>.</summary>
    [Function("ListDrills")]
    public Task<IActionResult> ListDrills(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/drills")] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, principal => Drills(request, client).ListAsync(principal, request.HttpContext.RequestAborted));

    /// <summary><c>GET /api/drills/{id}</c>: the drill's report.</summary>
    [Function("GetDrill")]
    public Task<IActionResult> GetDrill(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "api/drills/{id}")] HttpRequest request, string id, [DurableClient] DurableTaskClient client) =>
        AuthenticatedAsync(request, principal => Drills(request, client).GetAsync(id, principal, request.HttpContext, request.HttpContext.RequestAborted));

    private DrillHandlers Drills(HttpRequest request, DurableTaskClient client)
    {
        var services = request.HttpContext.RequestServices;
        var runs = new DurableRestoreRuns(client, tenantRuns);
        var starter = new DrillStarter(runs, Handlers(client), tenants, settings, batchSettings ?? new BatchSettings(),
            services.GetService<DrillScheduleOptions>() ?? new DrillScheduleOptions(), time);
        return new DrillHandlers(runs, starter, services.GetRequiredService<DrillResultStore>(), links);
    }
}
