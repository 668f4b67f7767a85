using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Api;
using RcmPitr.Api.Batches;

namespace RcmPitr.Host.Api;

/// <summary>The batch routes on the embedded host: <see cref="RestoreBatchHandlers"/> behind <see cref="ApiKeys"/>, bodies read after authentication.</summary>
public static class RestoreBatchesApi
{
    /// <summary>Maps the routes under <c>/api/restore-batches</c>.</summary>
    public static RouteGroupBuilder MapRestoreBatchesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(RestoreBatchHandlers.Route)
            .AddEndpointFilter((context, next) => context.HttpContext.RequestServices.GetRequiredService<ApiKeys>().InvokeAsync(context, next));
        group.MapPost("/", async (HttpContext http, RestoreBatchHandlers api, StartRateLimiter limiter, CancellationToken ct) =>
        {
            var (body, problem) = await ApiRequestBody.ReadBatchStartAsync(http.Request, ct);
            if (problem is not null)
            {
                return problem;
            }

            // A batch starts many runs, and counts as one start against the principal's limit: its members are checked first.
            var principal = ApiKeys.PrincipalOf(http);
            return await limiter.LimitAsync(principal, () => api.StartAsync(body, principal, http, ct));
        });
        group.MapGet("/", (RestoreBatchHandlers api, CancellationToken ct) => api.ListAsync(ct));
        group.MapGet("/{id}", (string id, HttpContext http, RestoreBatchHandlers api, CancellationToken ct) => api.GetAsync(id, http, ct));
        group.MapPost("/{id}/approve", (string id, HttpContext http, RestoreBatchHandlers api, CancellationToken ct) => DecideAsync(id, approved: true, http, api, ct));
        group.MapPost("/{id}/reject", (string id, HttpContext http, RestoreBatchHandlers api, CancellationToken ct) => DecideAsync(id, approved: false, http, api, ct));
        group.MapPost("/{id}/cancel", async (string id, HttpContext http, RestoreBatchHandlers api, CancellationToken ct) =>
        {
            var (body, problem) = await ApiRequestBody.ReadReasonAsync(http.Request, ct);
            return problem ?? await api.CancelAsync(id, body, ApiKeys.PrincipalOf(http), ct);
        });
        return group;
    }

    private static async Task<IResult> DecideAsync(string id, bool approved, HttpContext http, RestoreBatchHandlers api, CancellationToken ct)
    {
        var (body, problem) = await ApiRequestBody.ReadDecisionAsync(http.Request, ct);
        return problem ?? await api.DecideAsync(id, approved, body, ApiKeys.PrincipalOf(http), ct);
    }
}
