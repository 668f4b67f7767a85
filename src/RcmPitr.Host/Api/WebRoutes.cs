using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Api;
using RcmPitr.Api.Web;

namespace RcmPitr.Host.Api;

/// <summary>
/// The web page and the caller route on the embedded host. The page's files (<see cref="WebPages"/>) hold no data and
/// are served without authentication; everything they show comes from the API behind <see cref="ApiKeys"/>, to which the
/// page sends the key the person typed (kept in the browser tab's sessionStorage).
/// </summary>
public static class WebRoutes
{
    /// <summary>Maps <c>/</c>, <c>/runs/{id}</c>, <c>/drills</c>, <c>/drills/{id}</c> and <c>/ui/{file}</c>.</summary>
    public static IEndpointRouteBuilder MapWebPages(this IEndpointRouteBuilder app)
    {
        app.MapGet(WebPages.ListRoute, WebPages.Page);
        app.MapGet(WebPages.RunRoute, (string id) => WebPages.Page());
        app.MapGet(WebPages.DrillsRoute, WebPages.Page);
        app.MapGet(WebPages.DrillRoute, (string id) => WebPages.Page());
        app.MapGet(WebPages.AssetsRoute + "/{file}", (string file) => WebPages.Asset(file));
        return app;
    }

    /// <summary>Maps <c>GET /api/me</c>: the authenticated caller's id, name and roles.</summary>
    public static IEndpointRouteBuilder MapCallerApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(CallerInfo.Route, (HttpContext http) => TypedResults.Json(CallerInfo.From(ApiKeys.PrincipalOf(http))))
            .AddEndpointFilter((context, next) => context.HttpContext.RequestServices.GetRequiredService<ApiKeys>().InvokeAsync(context, next));
        return app;
    }
}
