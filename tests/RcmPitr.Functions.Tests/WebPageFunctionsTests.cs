using System.Net;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using RcmPitr.Functions.Http;
using RcmPitr.Postgres.ControlPlane;

namespace RcmPitr.Functions.Tests;

/// <summary>
/// The web page on the Functions app: host.json's route prefix is empty so the page lives at <c>/</c>, and every API
/// trigger names <c>api/</c> itself, so the public API's URLs are the ones they were under the <c>api</c> prefix.
/// </summary>
public sealed class WebPageFunctionsTests(FunctionsClusterFixture fx)
{
    /// <summary>The public URLs of the API (README, "HTTP API"), which must not move.</summary>
    private static readonly string[] ApiRoutes =
    [
        "GET api/drills",
        "GET api/drills/{id}",
        "GET api/me",
        "GET api/restore-batches",
        "GET api/restore-batches/{id}",
        "GET api/restores",
        "GET api/restores/{id}",
        "GET api/restores/{id}/changes",
        "GET api/restores/{id}/changes.csv",
        "GET api/server-recoveries",
        "GET api/server-recoveries/{id}",
        "POST api/drills",
        "POST api/restore-batches",
        "POST api/restore-batches/{id}/approve",
        "POST api/restore-batches/{id}/cancel",
        "POST api/restore-batches/{id}/reject",
        "POST api/restores",
        "POST api/restores/{id}/approve",
        "POST api/restores/{id}/cancel",
        "POST api/restores/{id}/reject",
        "POST api/restores/{id}/rollback",
        "POST api/server-recoveries",
        "POST api/server-recoveries/{id}/approve",
        "POST api/server-recoveries/{id}/reject",
    ];

    [Fact]
    public void HostJson_RoutePrefix_IsEmpty()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(Checkout(), "host.json")));

        Assert.Equal(string.Empty, hostJson.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
    }

    [Fact]
    public void HttpTriggers_EveryRouteButThePages_StartsWithApiAndNeedsAFunctionKey()
    {
        var triggers = HttpTriggers().ToList();
        var pages = triggers.Where(t => t.Trigger.Route is WebPageFunctions.ListRoute or "runs/{id}" or "drills" or "drills/{id}" or "ui/{file}").ToList();
        var api = triggers.Except(pages).ToList();

        Assert.Equal(5, pages.Count);
        Assert.All(pages, p => Assert.Equal(AuthorizationLevel.Anonymous, p.Trigger.AuthLevel));
        Assert.Equal(ApiRoutes, api.SelectMany(t => t.Trigger.Methods!.Select(m => $"{m.ToUpperInvariant()} {t.Trigger.Route}")).Order(StringComparer.Ordinal));
        Assert.All(api, t => Assert.Equal(AuthorizationLevel.Function, t.Trigger.AuthLevel));
    }

    [Theory]
    [InlineData("/", HttpStatusCode.OK)]
    [InlineData("/runs", HttpStatusCode.NotFound)]
    [InlineData("/api", HttpStatusCode.NotFound)]
    public async Task ListRoute_OnAspNetCoreRouting_MatchesOnlyTheRoot(string path, HttpStatusCode expected)
    {
        // The Functions host routes HTTP triggers with ASP.NET Core's route templates and inline constraints: the same
        // template on a real Kestrel server shows what it matches.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapGet(WebPageFunctions.ListRoute, () => "root");
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Pages_AreTheSharedShellAndAssets()
    {
        var pages = new WebPageFunctions();

        var (listStatus, listHeaders, list) = await FunctionsHttp.ExecuteAsync(Task.FromResult(pages.List(FunctionsHttp.Request(string.Empty))));
        var (_, _, run) = await FunctionsHttp.ExecuteAsync(Task.FromResult(pages.Run(FunctionsHttp.Request(string.Empty), "restore-acme--20260422143000-0123abcd")));
        var (jsStatus, jsHeaders, _) = await FunctionsHttp.ExecuteAsync(Task.FromResult(pages.Asset(FunctionsHttp.Request(string.Empty), "app.js")));
        var (missingStatus, _, _) = await FunctionsHttp.ExecuteAsync(Task.FromResult(pages.Asset(FunctionsHttp.Request(string.Empty), "index.html")));

        Assert.Equal(200, listStatus);
        Assert.StartsWith("text/html", listHeaders.ContentType.ToString(), StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", listHeaders.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
        Assert.Equal(list, run);
        Assert.Contains("/ui/app.js", list, StringComparison.Ordinal);
        Assert.Equal(200, jsStatus);
        Assert.StartsWith("text/javascript", jsHeaders.ContentType.ToString(), StringComparison.Ordinal);
        Assert.Equal(404, missingStatus);
    }

    [Fact]
    public async Task Me_WithAVerifiedClientPrincipal_IsItsObjectIdNameAndMappedRoles()
    {
        await using var master = await fx.NewMasterAsync();
        var request = FunctionsHttp.Request(string.Empty);
        var oid = ClientPrincipals.OidOf("bob");
        request.Headers[RestoreHttpFunctions.PrincipalHeader] = ClientPrincipals.Blob(oid, "Bob Jones", "RcmPitr.Approver", "Some.Other.Role");

        var (status, _, body) = await FunctionsHttp.ExecuteAsync(FunctionsHttp.Functions(master).Me(request));

        Assert.Equal(200, status);
        using var me = JsonDocument.Parse(body);
        Assert.Equal(oid, me.RootElement.GetProperty("id").GetString());
        Assert.Equal("Bob Jones", me.RootElement.GetProperty("name").GetString());
        Assert.Equal(["approver"], me.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Me_WithOnlyTheNameHeader_Is401()
    {
        await using var master = await fx.NewMasterAsync();
        var request = FunctionsHttp.Request(string.Empty);
        request.Headers["X-MS-CLIENT-PRINCIPAL-NAME"] = "bob";

        var (status, _, _) = await FunctionsHttp.ExecuteAsync(FunctionsHttp.Functions(master).Me(request));

        Assert.Equal(401, status);
    }

    private static IEnumerable<(string Function, HttpTriggerAttribute Trigger)> HttpTriggers() =>
        typeof(RestoreHttpFunctions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Select(m => (Function: m.GetCustomAttribute<FunctionAttribute>()?.Name, Trigger: m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null)))
            .Where(f => f.Function is not null && f.Trigger is not null)
            .Select(f => (f.Function!, f.Trigger!));

    private static string Checkout()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "RcmPitr.Functions.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No checkout (RcmPitr.Functions.sln) above {AppContext.BaseDirectory}.");
    }
}
