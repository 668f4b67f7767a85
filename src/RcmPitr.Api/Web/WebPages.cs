using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace RcmPitr.Api.Web;

/// <summary>
/// The web page both hosts serve: one static HTML shell (<c>/</c> lists runs, <c>/runs/{id}</c> shows one, <c>/drills</c> lists
/// restore drills, <c>/drills/{id}</c> shows a drill's report) and its
/// script and style under <c>/ui/</c>, embedded in this assembly. The files hold no data: the script reads everything
/// from the authenticated JSON API and writes it as text, never as HTML, so they are served without authentication.
/// </summary>
public static class WebPages
{
    /// <summary>The route of the static assets' folder; a file is <c>/ui/&lt;name&gt;</c>.</summary>
    public const string AssetsRoute = "/ui";

    /// <summary>The route of the runs list.</summary>
    public const string ListRoute = "/";

    /// <summary>The route of one run's page.</summary>
    public const string RunRoute = Workflow.Naming.RunAddresses.PageRoute + "/{id}";

    /// <summary>The route of the drills list.</summary>
    public const string DrillsRoute = "/drills";

    /// <summary>The route of one drill's report (with the chart of restore durations over past drills).</summary>
    public const string DrillRoute = DrillsRoute + "/{id}";

    private const string ShellName = "index.html";

    // Only what the page needs: its own script and style, fetches to its own origin, no frames, no plugins, no inline code.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private static readonly IReadOnlyDictionary<string, (string ContentType, byte[] Content)> Files = Load();

    /// <summary>The names of the files under <see cref="AssetsRoute"/>.</summary>
    public static IReadOnlyCollection<string> AssetNames => Files.Keys.Where(n => n != ShellName).ToList();

    /// <summary>The HTML shell, for <see cref="ListRoute"/> and <see cref="RunRoute"/> alike (the script reads the path).</summary>
    public static IResult Page() => Serve(ShellName);

    /// <summary>The asset <paramref name="name"/> (<c>app.js</c>, <c>app.css</c>), or 404.</summary>
    public static IResult Asset(string? name) =>
        name is not null && name != ShellName && Files.ContainsKey(name)
            ? Serve(name)
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "No such file.");

    private static IResult Serve(string name) => new StaticFileResult(Files[name].ContentType, Files[name].Content);

    private static Dictionary<string, (string, byte[])> Load()
    {
        var assembly = typeof(WebPages).Assembly;
        const string prefix = "RcmPitr.Api.Web.";
        var files = new Dictionary<string, (string, byte[])>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var name = resource[prefix.Length..];
            files[name] = (ContentTypeOf(name), Read(assembly, resource));
        }

        return files;
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };

    /// <summary>A file with the headers every page response carries.</summary>
    private sealed class StaticFileResult(string contentType, byte[] content) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = contentType;
            response.ContentLength = content.Length;
            response.Headers.CacheControl = "no-cache";
            response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers["Referrer-Policy"] = "no-referrer";
            response.Headers.XFrameOptions = "DENY";
            return response.Body.WriteAsync(content, httpContext.RequestAborted).AsTask();
        }
    }
}
