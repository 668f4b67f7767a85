using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RcmPitr.Host.Tests;

/// <summary>
/// The web page's routes on the embedded host: <c>GET /api/me</c> is authenticated like every API route and says who the
/// caller is; the page's static files are served without a key and hold no data.
/// </summary>
public sealed class WebPageApiTests(HostClusterFixture fx)
{
    [Theory]
    [InlineData(HostRun.AliceKey, "alice", new[] { "approver", "requester" })]
    [InlineData(HostRun.BobKey, "bob", new[] { "approver", "requester" })]
    [InlineData(HostRun.CarolKey, "carol", new[] { "approver", "operator" })]
    public async Task Me_WithAKey_IsThePrincipalsIdNameAndRoles(string key, string id, string[] roles)
    {
        await using var run = await HostRun.StartAsync(fx);

        using var response = await run.ClientWithKey(key).GetAsync("/api/me", TestContext.Current.CancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(id, body.GetProperty("id").GetString());
        Assert.Equal(id, body.GetProperty("name").GetString());
        Assert.Equal(roles, body.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToArray());
        Assert.DoesNotContain(key, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-key-of-anyone-0123456789abcdef")]
    public async Task Me_WithoutAValidKey_Is401(string? key)
    {
        await using var run = await HostRun.StartAsync(fx);
        var client = key is null ? run.Anonymous : run.ClientWithKey(key);

        using var response = await client.GetAsync("/api/me", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/runs/restore-acme--20260422143000-0123abcd", "text/html")]
    [InlineData("/ui/app.js", "text/javascript")]
    [InlineData("/ui/app.css", "text/css")]
    public async Task Page_WithoutAKey_IsServedWithItsSecurityHeaders(string path, string contentType)
    {
        await using var run = await HostRun.StartAsync(fx);

        using var response = await run.Anonymous.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("script-src 'self'", string.Join(' ', response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task Page_TheShell_IsTheSameForTheListAndARunAndHoldsNoInlineScript()
    {
        await using var run = await HostRun.StartAsync(fx);

        var list = await run.Anonymous.GetStringAsync("/", TestContext.Current.CancellationToken);
        var one = await run.Anonymous.GetStringAsync("/runs/any-id", TestContext.Current.CancellationToken);

        Assert.Equal(list, one);
        Assert.Contains("<script src=\"/ui/app.js\" defer></script>", list, StringComparison.Ordinal);
        Assert.Equal(1, list.Split("<script", StringSplitOptions.None).Length - 1);
        Assert.DoesNotContain("innerHTML", await run.Anonymous.GetStringAsync("/ui/app.js", TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/ui/index.html")]
    [InlineData("/ui/missing.js")]
    [InlineData("/ui/..%2Fsecrets.json")]
    public async Task Asset_NotAnAssetOfThePage_Is404(string path)
    {
        await using var run = await HostRun.StartAsync(fx);

        using var response = await run.Anonymous.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
