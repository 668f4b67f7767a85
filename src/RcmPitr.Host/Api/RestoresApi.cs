using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Api;

namespace RcmPitr.Host.Api;

/// <summary>
/// The restores routes on the embedded host: <see cref="RestoreApiHandlers"/> behind <see cref="ApiKeys"/>. No route
/// binds its body: minimal APIs bind before endpoint filters run, so a body is read (by <see cref="ApiRequestBody"/>)
/// only once the caller is authenticated — a stranger's malformed JSON gets 401, not a parser's opinion.
/// </summary>
public static class RestoresApi
{
    /// <summary>Maps the routes under <c>/api/restores</c>.</summary>
    public static RouteGroupBuilder MapRestoresApi(this IEndpointRouteBuilder app)
    {
        // The one ApiKeys of the host (AddEndpointFilter<ApiKeys>() would build one per endpoint from the options, whose
        // legacy plaintext keys the first one has already dropped).
        var group = app.MapGroup(RestoreApiHandlers.Route)
            .AddEndpointFilter((context, next) => context.HttpContext.RequestServices.GetRequiredService<ApiKeys>().InvokeAsync(context, next));
        group.MapPost("/", async (HttpContext http, RestoreApiHandlers api, StartRateLimiter limiter, CancellationToken ct) =>
        {
            var (body, problem) = await ApiRequestBody.ReadStartAsync(http.Request, ct);
            if (problem is not null)
            {
                return problem;
            }

            var principal = ApiKeys.PrincipalOf(http);
            return await limiter.LimitAsync(principal, () => api.StartAsync(body, principal, http, ct));
        });
        group.MapGet("/", (string? tenant, string? status, string? kind, RestoreApiHandlers api, CancellationToken ct) => api.ListAsync(tenant, status, ct, kind));
        group.MapGet("/{id}", (string id, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => api.GetAsync(id, http, ct));
        group.MapGet("/{id}/changes", (string id, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => api.ChangesAsync(id, csv: false, ApiKeys.PrincipalOf(http), ct));
        group.MapGet("/{id}/changes.csv", (string id, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => api.ChangesAsync(id, csv: true, ApiKeys.PrincipalOf(http), ct));
        group.MapPost("/{id}/approve", (string id, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => DecideAsync(id, approved: true, http, api, ct));
        group.MapPost("/{id}/reject", (string id, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => DecideAsync(id, approved: false, http, api, ct));
        group.MapPost("/{id}/cancel", async (string id, HttpContext http, RestoreApiHandlers api, CancellationToken ct) =>
        {
            var (body, problem) = await ApiRequestBody.ReadReasonAsync(http.Request, ct);
            return problem ?? await api.CancelAsync(id, body, ApiKeys.PrincipalOf(http), ct);
        });
        group.MapPost("/{id}/rollback", async (string id, HttpContext http, RestoreApiHandlers api, StartRateLimiter limiter, CancellationToken ct) =>
        {
            var (body, problem) = await ApiRequestBody.ReadRollbackAsync(http.Request, ct);
            if (problem is not null)
            {
                return problem;
            }

            // A rollback starts a run: it counts against the principal's starts like a restore.
            var principal = ApiKeys.PrincipalOf(http);
            return await limiter.LimitAsync(principal, () => api.RollbackAsync(id, body, principal, http, ct));
        });
        return group;
    }

    private static async Task<IResult> DecideAsync(string id, bool approved, HttpContext http, RestoreApiHandlers api, CancellationToken ct)
    {
        var (body, problem) = await ApiRequestBody.ReadDecisionAsync(http.Request, ct);
        return problem ?? await api.DecideAsync(id, approved, body, ApiKeys.PrincipalOf(http), ct);
    }
}
