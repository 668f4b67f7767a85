using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using RcmPitr.Cli;

namespace RcmPitr.Host.Tests;

/// <summary>
/// The command line building its own HTTP client — the key from <c>--key-file</c> or <c>RCMPITR_KEY</c>, the address
/// from <c>--url</c> or <c>RCMPITR_URL</c> — against real servers on loopback.
/// </summary>
public sealed class CliClientTests(HostClusterFixture fx) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("rcm-pitr-cli-").FullName;

    [Fact]
    public async Task List_WithKeyFileAndUrl_ReachesTheHostAsThatPrincipal()
    {
        await using var run = await HostRun.StartAsync(fx, kestrel: true);
        var error = new StringWriter();

        var exit = await CliApp.RunAsync(["--url", run.Address!.ToString(), "--key-file", KeyFile(HostRun.AliceKey), "list"], null, new StringWriter(), error);
        var wrongKey = await CliApp.RunAsync(["--url", run.Address!.ToString(), "--key-file", KeyFile("not-the-key-of-anyone-0123456789abcdef"), "list"], null, new StringWriter(), error);

        Assert.Equal(0, exit);
        Assert.Equal(1, wrongKey);
        Assert.Contains("API key", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_KeyAndUrlFromTheEnvironment_ReachTheHostAndNoKeyIsUsage()
    {
        await using var run = await HostRun.StartAsync(fx, kestrel: true);
        var environment = new Dictionary<string, string?> { [CliApp.UrlVariable] = run.Address!.ToString(), [CliApp.KeyVariable] = HostRun.BobKey };
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = await CliApp.RunAsync(["list"], null, output, new StringWriter(), name => environment.GetValueOrDefault(name));
        environment.Remove(CliApp.KeyVariable);
        var withoutKey = await CliApp.RunAsync(["list"], null, new StringWriter(), error, name => environment.GetValueOrDefault(name));

        Assert.Equal(0, exit);
        Assert.Equal(2, withoutKey);
        Assert.Contains(CliApp.KeyVariable, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_ApiUnreachable_Exits3()
    {
        var error = new StringWriter();

        var exit = await CliApp.RunAsync(["--url", $"http://127.0.0.1:{ClosedPort()}", "--key-file", KeyFile(HostRun.AliceKey), "list"], null, new StringWriter(), error);

        Assert.Equal(3, exit);
        Assert.StartsWith("cannot reach the RcmPitr API", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_RedirectToAnotherOrigin_Exits1NamingTheTargetAndSendsTheKeyNowhere()
    {
        var keysSeenByTarget = new List<string>();
        await using var target = await StartAsync(app => app.MapGet("/api/restores", (HttpRequest request) =>
        {
            keysSeenByTarget.Add(request.Headers["x-functions-key"].ToString());
            return Results.Json(Array.Empty<object>());
        }));
        var targetUrl = target.Urls.First() + "/api/restores";
        await using var redirector = await StartAsync(app => app.MapGet("/api/restores", () => Results.Redirect(targetUrl)));
        var error = new StringWriter();

        var exit = await CliApp.RunAsync(["--url", redirector.Urls.First(), "--key-file", KeyFile(HostRun.AliceKey), "list"], null, new StringWriter(), error);

        Assert.Equal(1, exit);
        Assert.Contains(targetUrl, error.ToString(), StringComparison.Ordinal);
        Assert.Empty(keysSeenByTarget);
    }

    [Fact]
    public async Task List_PlainHttpToANonLoopbackHost_IsRefusedAsUsage()
    {
        var error = new StringWriter();

        var exit = await CliApp.RunAsync(["--url", "http://rcm-pitr.example.invalid", "--key-file", KeyFile(HostRun.AliceKey), "list"], null, new StringWriter(), error);

        Assert.Equal(2, exit);
        Assert.Contains("https", error.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string KeyFile(string key)
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".key");
        File.WriteAllText(path, key + "\n");
        return path;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<WebApplication> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        map(app);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }
}
