using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Api;
using RcmPitr.Api.Drills;

namespace RcmPitr.Host.Api;

/// <summary>The drill routes on the embedded host: <see cref="DrillHandlers"/> behind <see cref="ApiKeys"/>.</summary>
public static class DrillsApi
{
    /// <summary>Maps the routes under <c>/api/drills</c>.</summary>
    public static RouteGroupBuilder MapDrillsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(DrillHandlers.Route)
            .AddEndpointFilter((context, next) => context.HttpContext.RequestServices.GetRequiredService<ApiKeys>().InvokeAsync(context, next));
        group.MapPost("/", async (HttpContext http, DrillHandlers api, StartRateLimiter limiter, CancellationToken ct) =>
        {
            var (body, problem) = await ApiRequestBody.ReadDrillStartAsync(http.Request, ct);
            if (problem is not null)
            {
                return problem;
            }

            var principal = ApiKeys.PrincipalOf(http);
            return await limiter.LimitAsync(principal, () => api.StartAsync(body, principal, http, ct));
        });
        group.MapGet("/", (HttpContext http, DrillHandlers api, CancellationToken ct) => api.ListAsync(ApiKeys.PrincipalOf(http), ct));
        group.MapGet("/{id}", (string id, HttpContext http, DrillHandlers api, CancellationToken ct) => api.GetAsync(id, ApiKeys.PrincipalOf(http), http, ct));
        return group;
    }
}
