using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using RcmPitr.Api.Web;

namespace RcmPitr.Functions.Http;

/// <summary>
/// The web page on Azure Functions: the same static files as the embedded host (<see cref="WebPages"/>) at the same
/// paths. host.json's route prefix is empty so that the page can live at <c>/</c>; every API route names its own
/// <c>api/</c>, which keeps the public API's URLs as they were. The files hold no data and need no function key
/// (anonymous at the function level); App Service authentication still stands in front of every path, and the page's
/// requests to the API carry its sign-in cookie.
/// </summary>
public sealed class WebPageFunctions
{
    /// <summary>
    /// The route of the runs list: the site's root. An HTTP trigger cannot have an empty route, so this is an optional
    /// parameter that only the empty path matches.
    /// </summary>
    public const string ListRoute = "{root:maxlength(0)?}";

    /// <summary><c>GET /</c>: the runs list.</summary>
    [Function("WebRunsPage")]
    public IActionResult List([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ListRoute)] HttpRequest request) =>
        new ResultActionResult(WebPages.Page());

    /// <summary><c>GET /runs/{id}</c>: one run.</summary>
    [Function("WebRunPage")]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "runs/{id}")] HttpRequest request, string id) =>
        new ResultActionResult(WebPages.Page());

    /// <summary><c>GET /drills</c>: the restore drills.</summary>
    [Function("WebDrillsPage")]
    public IActionResult Drills([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "drills")] HttpRequest request) =>
        new ResultActionResult(WebPages.Page());

    /// <summary><c>GET /drills/{id}</c>: one drill's report.</summary>
    [Function("WebDrillPage")]
    public IActionResult Drill([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "drills/{id}")] HttpRequest request, string id) =>
        new ResultActionResult(WebPages.Page());

    /// <summary><c>GET /ui/{file}</c>: the page's script and style.</summary>
    [Function("WebPageAsset")]
    public IActionResult Asset([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "ui/{file}")] HttpRequest request, string file) =>
        new ResultActionResult(WebPages.Asset(file));
}
