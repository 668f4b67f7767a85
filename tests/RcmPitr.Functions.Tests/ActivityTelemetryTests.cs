using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RcmPitr.Activities;
using RcmPitr.Functions.Activities;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Telemetry;
using RcmPitr.Testing;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Orchestration;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Tests;

/// <summary>
/// The Functions path of RcmPitr's telemetry: the real audit trigger, through the activity middleware, against a real
/// master database. The step is recorded per execution with the run the binding data names; the run's end once, even
/// when the activity is delivered again; a refusal as refused, by its type only.
/// </summary>
public sealed class ActivityTelemetryTests(FunctionsClusterFixture fx)
{
    [Fact]
    public async Task WriteAudit_ThroughTheActivityTrigger_RecordsEachExecutionAndTheRunOnce()
    {
        // Arrange
        var spans = new LockedList<Activity>();
        var metrics = new List<MetricSnapshot>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(RcmPitrTelemetry.Name).AddInMemoryExporter(spans).Build();
        using var metering = Sdk.CreateMeterProviderBuilder().AddMeter(RcmPitrTelemetry.Name).AddInMemoryExporter(metrics).Build();
        var master = await fx.NewMasterAsync();
        var slug = "tel-" + Guid.NewGuid().ToString("N")[..6];
        var tenantId = await AddTenantAsync(master, slug);
        var runId = $"restore-{slug}--20260422143000-{Guid.NewGuid().ToString("N")[..8]}";
        var createdAt = TimeProvider.System.GetUtcNow().AddSeconds(-90);
        var client = new Mock<DurableTaskClient>(MockBehavior.Strict, "test");
        client.Setup(c => c.GetInstanceAsync(runId, false, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new OrchestrationMetadata(RestoreTenantOrchestrator.Name, runId) { CreatedAt = createdAt });
        await using var services = Services(master);
        var functions = ActivatorUtilities.CreateInstance<ActivityFunctions>(services);
        var middleware = new StepInvocationMiddleware();
        var context = ActivityContext(runId);
        var details = new Dictionary<string, string> { ["mode"] = "DryRun", ["runId"] = runId };
        var audit = new WriteAuditInput(runId, tenantId, AuditEvents.PitrDryRun, "alice", "quarterly dry run", details);

        // Act: the audit, its redelivery, a refused one, and a second final event of the same run (its clean-up failed after
        // the dry run's audit), which must not count the run again.
        var results = new List<WriteAuditResult>();
        await middleware.Invoke(context, async _ => results.Add(await functions.WriteAudit(audit, client.Object, CancellationToken.None)));
        await middleware.Invoke(context, async _ => results.Add(await functions.WriteAudit(audit, client.Object, CancellationToken.None)));
        await middleware.Invoke(context, async _ => await Assert.ThrowsAsync<InvalidRestoreInputException>(
            () => functions.WriteAudit(audit with { Event = "NOT_AN_AUDIT_EVENT" }, client.Object, CancellationToken.None)));
        await middleware.Invoke(context, async _ => results.Add(await functions.WriteAudit(audit with { Event = AuditEvents.PitrFailed }, client.Object, CancellationToken.None)));
        metering!.ForceFlush();

        // Assert: the spans.
        Assert.Equal([true, false, true], results.Select(r => r.Inserted));
        var mine = spans.Snapshot().Where(s => Equals(s.GetTagItem(RcmPitrTelemetry.Tags.RunId), runId)).ToList();
        var steps = mine.Where(s => s.OperationName == ActivityNames.WriteAudit).ToList();
        Assert.Equal(["succeeded", "succeeded", "refused", "succeeded"], steps.Select(s => s.GetTagItem(RcmPitrTelemetry.Tags.Outcome)));
        Assert.All(steps, s => Assert.Equal(slug, s.GetTagItem(RcmPitrTelemetry.Tags.Tenant)));
        Assert.Equal(typeof(InvalidRestoreInputException).FullName, steps[2].GetTagItem(RcmPitrTelemetry.Tags.ErrorType));
        Assert.Equal(ActivityStatusCode.Error, steps[2].Status);
        Assert.Null(steps[2].StatusDescription);
        var run = Assert.Single(mine, s => s.OperationName == RcmPitrTelemetry.RunSpan);
        Assert.Equal("dry_run_completed", run.GetTagItem(RcmPitrTelemetry.Tags.Outcome));
        Assert.InRange(run.Duration, TimeSpan.FromSeconds(89), TimeSpan.FromMinutes(5));
        Assert.Single(mine.Select(s => s.TraceId).Distinct());
        Assert.DoesNotContain(mine.SelectMany(s => s.TagObjects), t => t.Value is string v && (v.Contains("quarterly", StringComparison.Ordinal) || v.Contains("alice", StringComparison.Ordinal)));

        // Assert: the metrics.
        var points = metrics.SelectMany(m => m.MetricPoints.Select(p => (m.Name, Tags: TagsOf(p), Point: p)))
            .Where(p => p.Tags.GetValueOrDefault(RcmPitrTelemetry.Tags.Tenant) as string == slug).ToList();
        Assert.Equal(1, Assert.Single(points, p => p.Name == RcmPitrTelemetry.RunsEnded).Point.GetSumLong());
        var duration = Assert.Single(points, p => p.Name == RcmPitrTelemetry.RunDuration).Point;
        Assert.Equal(1, duration.GetHistogramCount());
        Assert.InRange(duration.GetHistogramSum(), 89, 300);
        Assert.Equal(3, Assert.Single(points, p => p.Name == RcmPitrTelemetry.StepDuration && Equals(p.Tags[RcmPitrTelemetry.Tags.Outcome], "succeeded")).Point.GetHistogramCount());
        var refused = Assert.Single(points, p => p.Name == RcmPitrTelemetry.StepDuration && Equals(p.Tags[RcmPitrTelemetry.Tags.Outcome], "refused"));
        Assert.Equal(typeof(InvalidRestoreInputException).FullName, refused.Tags[RcmPitrTelemetry.Tags.ErrorType]);
    }

    [Fact]
    public void InstanceIdOf_AnotherTriggerOrAnUnsafeId_IsNone()
    {
        Assert.Equal("restore-acme--20260422143000-abcd1234", StepInvocationMiddleware.InstanceIdOf(ActivityContext("restore-acme--20260422143000-abcd1234")));
        Assert.Equal("restore-acme--20260422143000-abcd1234", StepInvocationMiddleware.InstanceIdOf(ActivityContext("\"restore-acme--20260422143000-abcd1234\"")));
        Assert.Null(StepInvocationMiddleware.InstanceIdOf(ActivityContext("restore acme; DROP")));
        Assert.Null(StepInvocationMiddleware.InstanceIdOf(ActivityContext("restore-acme--20260422143000-abcd1234", trigger: "httpTrigger")));
    }

    private static FunctionContext ActivityContext(string instanceId, string trigger = "activityTrigger")
    {
        var binding = new Mock<BindingMetadata>();
        binding.SetupGet(b => b.Type).Returns(trigger);
        var definition = new Mock<FunctionDefinition>();
        definition.SetupGet(d => d.InputBindings).Returns(ImmutableDictionary<string, BindingMetadata>.Empty.Add("input", binding.Object));
        var bindingContext = new Mock<BindingContext>();
        bindingContext.SetupGet(b => b.BindingData).Returns(new Dictionary<string, object?> { ["instanceId"] = instanceId });
        var context = new Mock<FunctionContext>();
        context.SetupGet(c => c.FunctionDefinition).Returns(definition.Object);
        context.SetupGet(c => c.BindingContext).Returns(bindingContext.Object);
        return context.Object;
    }

    private ServiceProvider Services(ControlPlaneDatabase master) => new ServiceCollection()
        .AddLogging()
        .AddSingleton(TimeProvider.System)
        .AddSingleton<ISecretStore>(fx.Secrets)
        .AddSingleton(master)
        .AddSingleton<IServerProvisioner>(new PreRestoredServerProvisioner(fx.PitrServer, DateTimeOffset.MinValue))
        .AddSingleton<INotifier, LogNotifier>()
        .AddSingleton(new Mock<IOrchestrationStarter>(MockBehavior.Strict).Object)
        .AddSingleton(new Mock<IOrchestrationTerminator>(MockBehavior.Strict).Object)
        .AddSingleton(new DataMoverOptions())
        .AddSingleton(new PgConnectionOptions())
        .AddRestoreActivities()
        .BuildServiceProvider();

    private async Task<Guid> AddTenantAsync(ControlPlaneDatabase master, string slug)
    {
        var id = Guid.NewGuid();
        var server = fx.LiveServer;
        await using var connection = await master.OpenAsync(CancellationToken.None);
        await using (var command = FunctionsClusterFixture.Command(connection,
            "INSERT INTO identity.db_server (name, fqdn, port, admin_user, admin_secret_ref, major_version) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            [server.Name, server.Fqdn, server.Port, server.AdminUser, server.AdminSecretRef, server.MajorVersion]))
        {
            await command.ExecuteNonQueryAsync();
        }

        await using (var command = FunctionsClusterFixture.Command(connection,
            "INSERT INTO identity.tenant (id, slug, db_server, db_config_ref) VALUES ($1, $2, $3, $4)", [id, slug, server.Name, $"tenant-db-{slug}"]))
        {
            await command.ExecuteNonQueryAsync();
        }

        return id;
    }

    private static Dictionary<string, object?> TagsOf(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags)
        {
            tags[tag.Key] = tag.Value;
        }

        return tags;
    }
}
