using System.Net;
using System.Net.Http.Json;

namespace RcmPitr.Host.Tests;

/// <summary>The per-principal limit on starts, through the HTTP API.</summary>
public sealed class StartRateLimitApiTests(HostClusterFixture fx)
{
    [Fact]
    public async Task Start_OverThePrincipalsLimit_Returns429WithRetryAfterWhileOthersMayStillStart()
    {
        await using var run = await HostRun.StartAsync(fx, settings: new Dictionary<string, string?>
        {
            ["RcmPitr:RateLimit:StartsPerWindow"] = "1",
            ["RcmPitr:RateLimit:Window"] = "01:00:00",
        });
        var acme = await run.AddTenantAsync("acme", liveMembers: 1, membersAtT: 1);
        var globex = await run.AddTenantAsync("globex", liveMembers: 1, membersAtT: 1);

        using var refused = await run.Alice.PostAsJsonAsync("/api/restores", new { tenant = acme.Slug, reason = "no time given" }, TestContext.Current.CancellationToken);
        using var first = await run.StartRestoreAsync(run.Alice, acme.Slug, mode: "dry-run");
        using var second = await run.StartRestoreAsync(run.Alice, globex.Slug, mode: "dry-run");
        using var bob = await run.StartRestoreAsync(run.Bob, globex.Slug, mode: "dry-run");

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType!.MediaType);
        var retryAfter = second.Headers.RetryAfter!.Delta!.Value;
        Assert.InRange(retryAfter, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.Accepted, bob.StatusCode);
    }
}
