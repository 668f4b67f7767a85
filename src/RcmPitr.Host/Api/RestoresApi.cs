using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RcmPitr.Api;

namespace RcmPitr.Host.Api;

/// <summary>The restores routes on the embedded host: <see cref="RestoreApiHandlers"/> behind <see cref="ApiKeys"/>.</summary>
public static class RestoresApi
{
    /// <summary>Maps the routes under <c>/api/restores</c>.</summary>
    public static RouteGroupBuilder MapRestoresApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(RestoreApiHandlers.Route).AddEndpointFilter<ApiKeys>();
        group.MapPost("/", (StartRestoreBody? body, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => api.StartAsync(body, ApiKeys.PrincipalOf(http), http, ct));
        group.MapGet("/", (string? tenant, string? status, string? kind, RestoreApiHandlers api, CancellationToken ct) => api.ListAsync(tenant, status, ct, kind));
        group.MapGet("/{id}", (string id, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => api.GetAsync(id, http, ct));
        group.MapPost("/{id}/approve", (string id, DecisionBody? body, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => api.DecideAsync(id, true, body, ApiKeys.PrincipalOf(http), ct));
        group.MapPost("/{id}/reject", (string id, DecisionBody? body, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => api.DecideAsync(id, false, body, ApiKeys.PrincipalOf(http), ct));
        group.MapPost("/{id}/cancel", (string id, ReasonBody? body, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => api.CancelAsync(id, body, ApiKeys.PrincipalOf(http), ct));
        group.MapPost("/{id}/rollback", (string id, RollbackBody? body, HttpContext http, RestoreApiHandlers api, CancellationToken ct) => api.RollbackAsync(id, body, ApiKeys.PrincipalOf(http), http, ct));
        return group;
    }
}
