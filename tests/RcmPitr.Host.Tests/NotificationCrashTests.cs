using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Host.Tests;

/// <summary>
/// A real <c>rcm-pitr serve</c> process SIGKILLed after a run's awaiting-approval message was written but before any receiver
/// took it: the message waits in the master's outbox, and the restarted host delivers it, once.
/// </summary>
public sealed class NotificationCrashTests(HostClusterFixture fx)
{
    [Fact]
    public async Task SigKill_WithTheAwaitingApprovalMessageNotYetDelivered_TheRestartedHostDeliversItOnce()
    {
        // A receiver that refuses (503) until the test lets it accept.
        var accepting = 0;
        var refused = 0;
        var messages = new ConcurrentQueue<JsonElement>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        receiver.MapPost("/hook/{token}", async (HttpContext context) =>
        {
            if (Volatile.Read(ref accepting) == 0)
            {
                Interlocked.Increment(ref refused);
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            // It records the message before it answers, as a real receiver may, so the host learns of the delivery later.
            messages.Enqueue(await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body));
            await Task.Delay(300);
        });
        await receiver.StartAsync(TestContext.Current.CancellationToken);
        var secretRef = "notify-crash-" + Guid.NewGuid().ToString("N")[..8];
        await fx.Secrets.SetSecretAsync(secretRef, $"{receiver.Urls.Single()}/hook/{Guid.NewGuid():N}", TestContext.Current.CancellationToken);
        await using var run = await CrashRun.CreateAsync(fx, new Dictionary<string, string?>
        {
            ["RcmPitr:Notifications:Targets:0:Name"] = "hook",
            ["RcmPitr:Notifications:Targets:0:UrlSecretRef"] = secretRef,
            ["RcmPitr:Notifications:PollInterval"] = "00:00:00.200",
            ["RcmPitr:Notifications:FirstRetryDelay"] = "00:00:00.500",
            ["RcmPitr:Notifications:MaxRetryDelay"] = "00:00:01",
            ["RcmPitr:Notifications:MaxAttempts"] = "1000",
        });
        await run.StartHostAsync();
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 5);
        var id = await run.StartRestoreAsync(acme);
        await run.WaitAsync(id, s => CrashRun.AwaitingApproval(s) && CrashRun.StepIs(s, RestoreSteps.NotifyApprovers, "succeeded"), "the approvers' notification");
        await CrashRun.UntilAsync(() => Task.FromResult(Volatile.Read(ref refused) > 0), "a refused delivery of the message");

        await run.KillHostAsync();
        Assert.Equal("pending", await run.MasterScalarAsync<string>("SELECT state FROM rcm_pitr.notification_outbox WHERE run_id = $1 AND event = 'awaiting_approval'", id));
        Interlocked.Exchange(ref accepting, 1);
        await run.StartHostAsync();

        await CrashRun.UntilAsync(() => Task.FromResult(messages.Any(m => m.GetProperty("event").GetString() == "awaiting_approval")), "the message after the restart");
        var message = Assert.Single(messages, m => m.GetProperty("event").GetString() == "awaiting_approval");
        Assert.Equal(id, message.GetProperty("runId").GetString());
        Assert.EndsWith($"/api/restores/{id}/approve", message.GetProperty("links").GetProperty("approve").GetString(), StringComparison.Ordinal);
        await CrashRun.UntilAsync(
            async () => await run.MasterScalarAsync<string>("SELECT state FROM rcm_pitr.notification_outbox WHERE run_id = $1 AND event = 'awaiting_approval'", id) == "sent",
            "the message marked sent in the outbox");
        await run.ApproveAsync(id);
        var done = await run.WaitAsync(id, CrashRun.Terminal, "the end of the run");
        Assert.Equal("Restored", done.GetProperty("output").GetProperty("outcome").GetString());
        await CrashRun.UntilAsync(() => Task.FromResult(messages.Any(m => m.GetProperty("event").GetString() == "restored")), "the restored message");
        Assert.Single(messages, m => m.GetProperty("event").GetString() == "awaiting_approval");
    }
}
