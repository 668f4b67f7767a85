using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace RcmPitr.Host.Tests;

/// <summary>The embedded host as composed: a run's notification reaches a real receiver through the outbox and the hosted dispatcher.</summary>
public sealed class NotificationHostTests(HostClusterFixture fx)
{
    [Fact]
    public async Task Restore_Rejected_TheHostsDispatcherDeliversTheRejectedMessage()
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        receiver.MapPost("/hook/{token}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            received.TrySetResult(await reader.ReadToEndAsync());
        });
        await receiver.StartAsync(TestContext.Current.CancellationToken);
        var secretRef = "notify-hook-" + Guid.NewGuid().ToString("N")[..8];
        await fx.Secrets.SetSecretAsync(secretRef, $"{receiver.Urls.Single()}/hook/{Guid.NewGuid():N}", TestContext.Current.CancellationToken);
        await using var run = await HostRun.StartAsync(fx, settings: new Dictionary<string, string?>
        {
            ["RcmPitr:Notifications:Targets:0:Name"] = "hook",
            ["RcmPitr:Notifications:Targets:0:UrlSecretRef"] = secretRef,
            ["RcmPitr:Notifications:PollInterval"] = "00:00:00.200",
        });
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        using var start = await run.StartRestoreAsync(run.Alice, acme.Slug);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
        await run.WaitAsync(id, HostRun.AwaitingApproval);

        using (var reject = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/reject", new { comment = "wrong minute" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, reject.StatusCode);
        }

        using var message = JsonDocument.Parse(await received.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
        Assert.Equal("rejected", message.RootElement.GetProperty("event").GetString());
        Assert.Equal(id, message.RootElement.GetProperty("runId").GetString());
        Assert.Equal(acme.Slug, message.RootElement.GetProperty("tenant").GetString());
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.notification_outbox WHERE run_id = $1 AND event = 'rejected'", id));
    }
}
