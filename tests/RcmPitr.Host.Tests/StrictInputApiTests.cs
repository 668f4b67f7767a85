using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace RcmPitr.Host.Tests;

/// <summary>
/// What the API does with a request body before any of it counts: the caller is authenticated first, then the body
/// is read strictly — malformed JSON, unknown fields, oversized or non-JSON bodies and over-long free text are
/// refused with a problem naming what is wrong.
/// </summary>
public sealed class StrictInputApiTests(HostClusterFixture fx)
{
    [Fact]
    public async Task Start_RestoreTimeWithoutZoneOrInACultureOrder_Returns400NamingRestoreTime()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 1, membersAtT: 1);

        foreach (var time in new[] { "2026-04-22T14:30:00", "04/05/2026 10:00 +00:00", "2026-04-22 14:30:00Z" })
        {
            using var response = await PostJsonAsync(run.Alice, "/api/restores", $$"""{"tenant":"{{acme.Slug}}","restoreTime":"{{time}}","reason":"bad migration"}""");
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(["restoreTime"], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name));
            Assert.Contains("ISO-8601", problem.GetProperty("errors").GetProperty("restoreTime")[0].GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", acme.Id));
    }

    [Fact]
    public async Task Start_UnknownField_Returns400NamingItAndStartsNothing()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 1, membersAtT: 1);
        var time = run.RestoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

        using var response = await PostJsonAsync(run.Alice, "/api/restores", $$"""{"tenant":"{{acme.Slug}}","restoreTime":"{{time}}","reason":"rehearsal","mdoe":"dry-run"}""");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(["mdoe"], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        using var list = await run.Alice.GetAsync($"/api/restores?tenant={acme.Slug}", TestContext.Current.CancellationToken);
        Assert.Empty((await list.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).EnumerateArray());
    }

    [Fact]
    public async Task Start_FieldGivenTwiceOrOfTheWrongType_Returns400NamingEach()
    {
        await using var run = await HostRun.StartAsync(fx);

        using var response = await PostJsonAsync(run.Alice, "/api/restores", """{"tenant":5,"restoreTime":"2026-04-22T14:30:00Z","reason":"r","mode":"dry-run","Mode":"restore"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["mode", "tenant"], (await ErrorFieldsAsync(response)).Order());
    }

    [Fact]
    public async Task Start_MalformedJsonWithoutAKey_Returns401()
    {
        await using var run = await HostRun.StartAsync(fx);

        using var response = await PostJsonAsync(run.Anonymous, "/api/restores", """{"tenant": "acme", """);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Start_MalformedJsonWithAKey_Returns400NamingWhereItBreaks()
    {
        await using var run = await HostRun.StartAsync(fx);

        using var response = await PostJsonAsync(run.Alice, "/api/restores", "{\"tenant\": \"acme\",\n \"reason\" \"x\"}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var message = problem.GetProperty("errors").GetProperty("body")[0].GetString()!;
        Assert.Contains("line 2", message, StringComparison.Ordinal);
        Assert.Contains("position", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_BodyOverTheLimit_Returns413()
    {
        await using var run = await HostRun.StartAsync(fx);

        var json = $$"""{"tenant":"acme","restoreTime":"2026-04-22T14:30:00Z","reason":"{{new string('x', 20_000)}}"}""";

        using var response = await PostJsonAsync(run.Alice, "/api/restores", json);
        // JsonContent does not compute its length: no Content-Length, the reader finds the size by reading.
        using var streamed = await run.Alice.PostAsJsonAsync("/api/restores", new { tenant = "acme", restoreTime = "2026-04-22T14:30:00Z", reason = new string('x', 20_000) }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Null(streamed.RequestMessage!.Content!.Headers.ContentLength);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
    }

    [Fact]
    public async Task Start_BodyOverTheLimitOnTheRealServer_IsAnswered401WithoutAKeyAnd413WithOneBeforeItIsSent()
    {
        await using var run = await HostRun.StartAsync(fx, kestrel: true);
        var json = $$"""{"tenant":"acme","restoreTime":"2026-04-22T14:30:00Z","reason":"{{new string('x', 40_000)}}"}""";
        // Expect: 100-continue, as a careful client sends a large body: the server answers before the body is sent (an
        // answer to a body it will not read is otherwise raced by the connection reset that follows it).
        using var client = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(60) }) { BaseAddress = run.Address };

        using var anonymous = await SendExpectingContinueAsync(client, json, key: null);
        using var withKey = await SendExpectingContinueAsync(client, json, HostRun.AliceKey);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, withKey.StatusCode);
        Assert.Equal("application/problem+json", withKey.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Start_NotJson_Returns415()
    {
        await using var run = await HostRun.StartAsync(fx);

        using var response = await run.Alice.PostAsync("/api/restores", new StringContent("tenant=acme&reason=x", Encoding.UTF8, "application/x-www-form-urlencoded"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Decide_CommentOverTheLimitOrUnknownField_Returns400NamingTheField()
    {
        await using var run = await HostRun.StartAsync(fx);

        using var longComment = await run.Bob.PostAsJsonAsync("/api/restores/any-run/approve", new { comment = new string('c', 501) }, TestContext.Current.CancellationToken);
        using var typo = await PostJsonAsync(run.Bob, "/api/restores/any-run/reject", """{"coment":"wrong minute"}""");
        using var longReason = await run.Alice.PostAsJsonAsync("/api/restores/any-run/cancel", new { reason = new string('r', 501) }, TestContext.Current.CancellationToken);
        using var empty = await run.Bob.PostAsync("/api/restores/any-run/approve", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, longComment.StatusCode);
        Assert.Equal(["comment"], await ErrorFieldsAsync(longComment));
        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
        Assert.Equal(["coment"], await ErrorFieldsAsync(typo));
        Assert.Equal(HttpStatusCode.BadRequest, longReason.StatusCode);
        Assert.Equal(["reason"], await ErrorFieldsAsync(longReason));
        Assert.Equal(HttpStatusCode.NotFound, empty.StatusCode);
    }

    private static Task<HttpResponseMessage> SendExpectingContinueAsync(HttpClient client, string json, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/restores") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        if (key is not null)
        {
            request.Headers.Add("x-functions-key", key);
        }

        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

    private static async Task<IReadOnlyList<string>> ErrorFieldsAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
}
