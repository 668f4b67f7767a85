using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace RcmPitr.Host.Tests;

/// <summary>The embedded host as composed: a run's notifications reach a real receiver through the outbox and the hosted dispatcher.</summary>
public sealed class NotificationHostTests(HostClusterFixture fx)
{
    [Fact]
    public async Task Restore_Rejected_TheHostsDispatcherDeliversTheRejectedMessage()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var run = await HostRun.StartAsync(fx, settings: await receiver.SettingsAsync(fx));
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        using var start = await run.StartRestoreAsync(run.Alice, acme.Slug);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
        await run.WaitAsync(id, HostRun.AwaitingApproval);

        using (var reject = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/reject", new { comment = "wrong minute" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, reject.StatusCode);
        }

        var message = await receiver.NextAsync("rejected");
        Assert.Equal(id, message.GetProperty("runId").GetString());
        Assert.Equal(acme.Slug, message.GetProperty("tenant").GetString());
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.notification_outbox WHERE run_id = $1 AND event = 'rejected'", id));
    }

    [Fact]
    public async Task Restore_AwaitingApproval_TheMessageCarriesTheChangeSummaryAndLinksThatWork()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var run = await HostRun.StartAsync(fx, settings: await receiver.SettingsAsync(fx), kestrel: true);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        using var start = await run.StartRestoreAsync(run.Alice, acme.Slug);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;

        var message = await receiver.NextAsync("awaiting_approval");
        Assert.Equal(id, message.GetProperty("runId").GetString());
        Assert.Contains("Requested by alice", message.GetProperty("body").GetString(), StringComparison.Ordinal);
        Assert.Matches(@"Changes: \d+ of \d+ tables change: \d+ rows written after T leave with the cutover, \d+ deleted rows come back", message.GetProperty("body").GetString());
        var links = message.GetProperty("links");
        var pageLink = new Uri(links.GetProperty("page").GetString()!);
        Assert.Equal(run.Address!.Authority, pageLink.Authority);
        using (var status = await run.Alice.GetAsync(new Uri(links.GetProperty("status").GetString()!), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, status.StatusCode);
            Assert.True(HostRun.AwaitingApproval(await status.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)));
        }

        var approve = new Uri(links.GetProperty("approve").GetString()!);
        using (var own = await run.Alice.PostAsJsonAsync(approve, new { comment = "mine" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        }

        using (var approved = await run.Bob.PostAsJsonAsync(approve, new { comment = "checked the report" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approved.StatusCode);
        }

        var restored = await receiver.NextAsync("restored");
        Assert.Equal(id, restored.GetProperty("runId").GetString());
        Assert.Equal(JsonValueKind.Null, restored.GetProperty("links").GetProperty("approve").ValueKind);
    }

    /// <summary>A real HTTP receiver on loopback that keeps every message it is sent.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly Channel<JsonElement> _messages = Channel.CreateUnbounded<JsonElement>();

        private Receiver(WebApplication app) => _app = app;

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var receiver = new Receiver(builder.Build());
            receiver._app.MapPost("/hook/{token}", async (HttpContext context) =>
            {
                var message = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body);
                await receiver._messages.Writer.WriteAsync(message);
            });
            await receiver._app.StartAsync(TestContext.Current.CancellationToken);
            return receiver;
        }

        /// <summary>The host settings of a target pointing here (its URL is a secret in the host's store).</summary>
        public async Task<Dictionary<string, string?>> SettingsAsync(HostClusterFixture fx)
        {
            var secretRef = "notify-hook-" + Guid.NewGuid().ToString("N")[..8];
            await fx.Secrets.SetSecretAsync(secretRef, $"{_app.Urls.Single()}/hook/{Guid.NewGuid():N}", TestContext.Current.CancellationToken);
            return new Dictionary<string, string?>
            {
                ["RcmPitr:Notifications:Targets:0:Name"] = "hook",
                ["RcmPitr:Notifications:Targets:0:UrlSecretRef"] = secretRef,
                ["RcmPitr:Notifications:PollInterval"] = "00:00:00.200",
            };
        }

        /// <summary>The next message of <paramref name="notificationEvent"/>, skipping others (bounded wait).</summary>
        public async Task<JsonElement> NextAsync(string notificationEvent)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(90));
            while (true)
            {
                var message = await _messages.Reader.ReadAsync(timeout.Token);
                if (message.GetProperty("event").GetString() == notificationEvent)
                {
                    return message;
                }
            }
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}
