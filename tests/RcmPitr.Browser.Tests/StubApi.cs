using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RcmPitr.Host.Api;

namespace RcmPitr.Browser.Tests;

/// <summary>
/// The page's real files (the embedded host's <see cref="WebRoutes.MapWebPages"/>) in front of a scripted API on a
/// loopback Kestrel server, for what a real run does not show on demand: a change report with sampled keys, hostile
/// text in the data, an API refusal. Every API route wants <see cref="Key"/> in <c>x-functions-key</c>; the requests it
/// answered are recorded.
/// </summary>
internal sealed class StubApi : IAsyncDisposable
{
    public const string Key = "stub-key-0123456789abcdef0123456789ab";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly WebApplication _app;

    private StubApi(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The server's address.</summary>
    public Uri Address { get; }

    /// <summary>"METHOD path" of every authenticated API request, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>
    /// Starts the server: <c>GET /api/me</c> is <paramref name="me"/>, <c>GET /api/restores/{id}</c> is
    /// <paramref name="status"/> (202 while it runs), <c>/changes</c> is <paramref name="changes"/> (404 when null),
    /// <c>/changes.csv</c> is <paramref name="csv"/>, and every decision is refused with <paramref name="decisionProblem"/>.
    /// </summary>
    public static Task<StubApi> StartAsync(object me, object status, object? changes, string csv, (int Status, string Title, string Detail) decisionProblem) =>
        StartAsync(me, (_, _) => Task.FromResult((status, StatusCodes.Status202Accepted)), changes, csv, decisionProblem);

    /// <summary>
    /// Starts the server with <c>GET /api/restores/{id}</c> answered by <paramref name="status"/>, given how many status
    /// requests came before this one (0 for the first): an answer can be held back, or change from one request to the next.
    /// </summary>
    public static async Task<StubApi> StartAsync(
        object me, Func<int, CancellationToken, Task<(object Body, int StatusCode)>> status, object? changes, string csv, (int Status, string Title, string Detail) decisionProblem)
    {
        var statusRequests = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddProblemDetails();
        var app = builder.Build();
        StubApi? stub = null;
        app.MapWebPages();
        var api = app.MapGroup("/api").AddEndpointFilter(async (context, next) =>
        {
            var request = context.HttpContext.Request;
            if (request.Headers["x-functions-key"] != Key)
            {
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: "A valid API key is required in the x-functions-key header.");
            }

            stub!.Requests.Enqueue($"{request.Method} {request.Path}");
            return await next(context);
        });
        api.MapGet("/me", () => Results.Json(me, Json));
        api.MapGet("/restores", () => Results.Json(Array.Empty<object>(), Json));
        api.MapGet("/restores/{id}", async (string id, CancellationToken ct) =>
        {
            var (body, code) = await status(Interlocked.Increment(ref statusRequests) - 1, ct);
            return Results.Json(body, Json, statusCode: code);
        });
        api.MapGet("/restores/{id}/changes", (string id) => changes is null ? Results.NotFound() : Results.Json(changes, Json));
        api.MapGet("/restores/{id}/changes.csv", (string id) => Results.Text(csv, "text/csv"));
        api.MapPost("/restores/{id}/{verb}", (string id, string verb) =>
            Results.Problem(statusCode: decisionProblem.Status, title: decisionProblem.Title, detail: decisionProblem.Detail));
        await app.StartAsync();
        stub = new StubApi(app, new Uri(app.Urls.First()));
        return stub;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
