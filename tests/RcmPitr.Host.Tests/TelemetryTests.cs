using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RcmPitr.Telemetry;
using RcmPitr.Testing;

namespace RcmPitr.Host.Tests;

/// <summary>
/// RcmPitr's traces and metrics from a real dry run on the embedded engine: every step a span in the run's trace with
/// bounded tags, durations and bytes moved as metrics, the run recorded once — read in memory, and exported over real
/// OTLP/HTTP to a loopback receiver by the host's own configuration.
/// </summary>
public sealed partial class TelemetryTests(HostClusterFixture fx)
{
    private static readonly string[] DryRunSteps =
        ["ResolveTenant", "Preflight", "AcquireServer", "MoveTenant", "ParityProbe", "CompareChanges", "WriteAudit", "ReleaseServer", "DeleteDump"];

    [Fact]
    public async Task DryRun_OnTheEmbeddedEngine_EveryStepAndTheRunAreRecordedWithBoundedTags()
    {
        // Arrange
        var spans = new LockedList<Activity>();
        var metrics = new LockedList<MetricSnapshot>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(RcmPitrTelemetry.Name).AddInMemoryExporter(spans).Build();
        using var metering = Sdk.CreateMeterProviderBuilder().AddMeter(RcmPitrTelemetry.Name).AddInMemoryExporter(metrics).Build();
        await using var run = await HostRun.StartAsync(fx);
        var tenant = await run.AddTenantAsync("otel", liveMembers: 4, membersAtT: 5);
        var password = await fx.Secrets.GetSecretAsync(HostClusterFixture.LiveSecretRef, CancellationToken.None);

        // Act
        var id = await StartDryRunAsync(run, tenant.Slug);
        var done = await run.WaitAsync(id, HostRun.Terminal);
        metering!.ForceFlush();

        // Assert: one trace per run, a span per step with its tags.
        Assert.Equal("DryRunCompleted", done.GetProperty("output").GetProperty("outcome").GetString());
        var mine = spans.Snapshot().Where(s => Equals(s.GetTagItem(RcmPitrTelemetry.Tags.RunId), id)).ToList();
        var steps = mine.Where(s => s.OperationName != RcmPitrTelemetry.RunSpan).ToList();
        Assert.All(DryRunSteps, step => Assert.Contains(steps, s => s.OperationName == step));
        Assert.Single(mine.Select(s => s.TraceId).Distinct());
        Assert.All(steps, s =>
        {
            Assert.Equal(s.OperationName, s.GetTagItem(RcmPitrTelemetry.Tags.Step));
            Assert.Equal(tenant.Slug, s.GetTagItem(RcmPitrTelemetry.Tags.Tenant));
            Assert.Equal(1, s.GetTagItem(RcmPitrTelemetry.Tags.Delivery));
            Assert.Equal("succeeded", s.GetTagItem(RcmPitrTelemetry.Tags.Outcome));
        });
        var move = Assert.Single(steps, s => s.OperationName == "MoveTenant");
        Assert.Equal("streaming", move.GetTagItem(RcmPitrTelemetry.Tags.TransferMode));
        Assert.True((long)move.GetTagItem(RcmPitrTelemetry.Tags.BytesMoved)! > 0);
        var whole = Assert.Single(mine, s => s.OperationName == RcmPitrTelemetry.RunSpan);
        Assert.Equal("dry_run_completed", whole.GetTagItem(RcmPitrTelemetry.Tags.Outcome));
        Assert.Equal("dry-run", whole.GetTagItem(RcmPitrTelemetry.Tags.RunMode));
        Assert.True(whole.Duration >= move.Duration);
        Assert.All(mine.SelectMany(s => s.TagObjects), tag => AssertBounded(tag, password));

        // Assert: metrics per step, bytes moved, and the run once.
        var points = metrics.Snapshot().SelectMany(m => m.MetricPoints.Select(p => (m.Name, Point: p))).ToList();
        var ofTenant = points.Where(p => TagsOf(p.Point).GetValueOrDefault(RcmPitrTelemetry.Tags.Tenant) as string == tenant.Slug).ToList();
        Assert.All(DryRunSteps, step => Assert.Contains(ofTenant, p =>
            p.Name == RcmPitrTelemetry.StepDuration && Equals(TagsOf(p.Point)[RcmPitrTelemetry.Tags.Step], step) && p.Point.GetHistogramCount() >= 1));
        Assert.Contains(ofTenant, p => p.Name == RcmPitrTelemetry.TransferBytes && p.Point.GetSumLong() > 0);
        var ended = Assert.Single(ofTenant, p => p.Name == RcmPitrTelemetry.RunsEnded);
        Assert.Equal(1, ended.Point.GetSumLong());
        Assert.Equal("dry_run_completed", TagsOf(ended.Point)[RcmPitrTelemetry.Tags.Outcome]);
        Assert.Equal(1, Assert.Single(ofTenant, p => p.Name == RcmPitrTelemetry.RunDuration).Point.GetHistogramCount());
        Assert.All(ofTenant.SelectMany(p => TagsOf(p.Point)), tag => AssertBounded(tag, password));
        Assert.DoesNotContain(ofTenant.SelectMany(p => TagsOf(p.Point).Keys), key => key == RcmPitrTelemetry.Tags.RunId);
    }

    [Fact]
    public async Task DryRun_WithAnOtlpEndpointConfigured_ExportsStepsAndTheRunOverOtlpHttp()
    {
        // Arrange: a loopback OTLP/HTTP receiver recording every POST.
        var received = new ConcurrentQueue<(string Path, string ContentType, byte[] Body)>();
        await using var receiver = await StartReceiverAsync(received);
        await using var run = await HostRun.StartAsync(fx, settings: new Dictionary<string, string?>
        {
            ["RcmPitr:Telemetry:OtlpEndpoint"] = receiver.Urls.First(),
        });
        var tenant = await run.AddTenantAsync("otlp", liveMembers: 3, membersAtT: 4);
        var password = await fx.Secrets.GetSecretAsync(HostClusterFixture.LiveSecretRef, CancellationToken.None);

        // Act: a run, then a host shutdown, which flushes both exporters.
        var id = await StartDryRunAsync(run, tenant.Slug);
        await run.WaitAsync(id, HostRun.Terminal);
        await run.StopHostAsync();

        // Assert
        var posts = received.ToList();
        Assert.All(posts, p => Assert.Equal("application/x-protobuf", p.ContentType));
        var traces = posts.Where(p => p.Path == "/v1/traces").Select(p => p.Body).ToList();
        var metrics = posts.Where(p => p.Path == "/v1/metrics").Select(p => p.Body).ToList();
        Assert.Contains(traces, body => Has(body, id) && Has(body, "MoveTenant") && Has(body, RcmPitrTelemetry.RunSpan) && Has(body, tenant.Slug));
        Assert.Contains(metrics, body => Has(body, RcmPitrTelemetry.StepDuration) && Has(body, RcmPitrTelemetry.RunsEnded) && Has(body, tenant.Slug));
        Assert.DoesNotContain(posts, p => Has(p.Body, password));
    }

    private static async Task<string> StartDryRunAsync(HostRun run, string tenant)
    {
        using var response = await run.StartRestoreAsync(run.Alice, tenant, mode: "dry-run");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<WebApplication> StartReceiverAsync(ConcurrentQueue<(string, string, byte[])> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/v1/{signal}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            received.Enqueue((http.Request.Path.Value!, http.Request.ContentType ?? "", body.ToArray()));
            return Results.Ok();
        });
        await app.StartAsync();
        return app;
    }

    private static bool Has(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    private static Dictionary<string, object?> TagsOf(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
        {
            tags[tag.Key] = tag.Value;
        }

        return tags;
    }

    /// <summary>A tag is one of RcmPitr's names with a short token or a number as its value — never text, a secret or row data.</summary>
    private static void AssertBounded(KeyValuePair<string, object?> tag, string password)
    {
        Assert.Matches("^(rcmpitr\\.[a-z_.]+|error\\.type)$", tag.Key);
        switch (tag.Value)
        {
            case string text:
                Assert.Matches(BoundedValue(), text);
                Assert.NotEqual(password, text);
                break;
            case int or long:
                break;
            default:
                Assert.Fail($"Tag {tag.Key} has a value of type {tag.Value?.GetType().Name ?? "null"}.");
                break;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex BoundedValue();
}
