using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Api;
using RcmPitr.Api.Recoveries;

namespace RcmPitr.Host.Api;

/// <summary>The region-loss routes on the embedded host: <see cref="ServerRecoveryHandlers"/> behind <see cref="ApiKeys"/>, bodies read after authentication.</summary>
public static class ServerRecoveriesApi
{
    /// <summary>Maps the routes under <c>/api/server-recoveries</c>.</summary>
    public static RouteGroupBuilder MapServerRecoveriesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(ServerRecoveryHandlers.Route)
            .AddEndpointFilter((context, next) => context.HttpContext.RequestServices.GetRequiredService<ApiKeys>().InvokeAsync(context, next));
        group.MapPost("/", async (HttpContext http, ServerRecoveryHandlers api, StartRateLimiter limiter, CancellationToken ct) =>
        {
            var (body, problem) = await ApiRequestBody.ReadServerRecoveryAsync(http.Request, ct);
            if (problem is not null)
            {
                return problem;
            }

            var principal = ApiKeys.PrincipalOf(http);
            return await limiter.LimitAsync(principal, () => api.StartAsync(body, principal, http, ct));
        });
        group.MapGet("/", (ServerRecoveryHandlers api, CancellationToken ct) => api.ListAsync(ct));
        group.MapGet("/{id}", (string id, HttpContext http, ServerRecoveryHandlers api, CancellationToken ct) => api.GetAsync(id, http, ct));
        group.MapPost("/{id}/approve", (string id, HttpContext http, ServerRecoveryHandlers api, CancellationToken ct) => DecideAsync(id, approved: true, http, api, ct));
        group.MapPost("/{id}/reject", (string id, HttpContext http, ServerRecoveryHandlers api, CancellationToken ct) => DecideAsync(id, approved: false, http, api, ct));
        return group;
    }

    private static async Task<IResult> DecideAsync(string id, bool approved, HttpContext http, ServerRecoveryHandlers api, CancellationToken ct)
    {
        var (body, problem) = await ApiRequestBody.ReadDecisionAsync(http.Request, ct);
        return problem ?? await api.DecideAsync(id, approved, body, ApiKeys.PrincipalOf(http), ct);
    }
}
