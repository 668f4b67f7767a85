using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Npgsql;
using RcmPitr.Api;
using RcmPitr.Api.Drills;
using RcmPitr.Functions.Composition;
using RcmPitr.Functions.Http;
using RcmPitr.Functions.Timers;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Tests;

/// <summary>The HTTP and timer triggers with a mocked <see cref="DurableTaskClient"/> (Durable cannot run here) over a real master database.</summary>
public sealed class HttpAndTimerFunctionsTests(FunctionsClusterFixture fx) : IAsyncLifetime
{
    private readonly Mock<DurableTaskClient> _client = new(MockBehavior.Strict, "test");
    private ControlPlaneDatabase _master = null!;

    public async ValueTask InitializeAsync() => _master = await fx.NewMasterAsync();

    [Fact]
    public async Task Approve_WithoutASignedInPrincipal_Is401()
    {
        var (status, _) = await ExecuteAsync(Functions().Approve(Request("{}", principal: null), "run-1", _client.Object));

        Assert.Equal(401, status);
    }

    [Fact]
    public async Task Approve_ByTheRequester_Is403AndRaisesNothing()
    {
        SetupAwaitingRun("run-1", requestedBy: "alice");

        var (status, body) = await ExecuteAsync(Functions().Approve(Request("{\"comment\":\"me\"}", "alice"), "run-1", _client.Object));

        Assert.Equal(403, status);
        Assert.Contains("cannot also approve", body, StringComparison.Ordinal);
        _client.Verify(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Approve_BySecondPrincipal_RaisesTheDecisionEvent()
    {
        SetupAwaitingRun("run-1", requestedBy: "alice");
        _client.Setup(c => c.RaiseEventAsync("run-1", RestoreEvents.Approval, It.Is<ApprovalDecision>(d => d.Approved && d.DecidedBy == "bob" && d.Comment == "ok"), It.IsAny<CancellationToken>()))
            .Returns(Task.CompletedTask);

        var (status, _) = await ExecuteAsync(Functions().Approve(Request("{\"comment\":\"ok\"}", "bob"), "run-1", _client.Object));

        Assert.Equal(202, status);
        _client.VerifyAll();
    }

    [Fact]
    public async Task Get_RunningRun_Is202WithRetryAfterAndTheStatusShape()
    {
        SetupAwaitingRun("run-1", requestedBy: "alice");
        var request = Request(string.Empty, "bob");

        var (status, body) = await ExecuteAsync(Functions().Get(request, "run-1", _client.Object), request);

        Assert.Equal(202, status);
        Assert.Equal("10", request.HttpContext.Response.Headers.RetryAfter.ToString());
        using var json = JsonDocument.Parse(body);
        Assert.Equal("run-1", json.RootElement.GetProperty("instanceId").GetString());
        Assert.Equal("Running", json.RootElement.GetProperty("runtimeStatus").GetString());
        Assert.True(json.RootElement.GetProperty("customStatus").GetProperty("awaitingApproval").GetBoolean());
    }

    [Fact]
    public async Task Start_InvalidBody_Is400NamingTheFields()
    {
        var (status, body) = await ExecuteAsync(Functions().Start(Request("{\"tenant\":\"Bad Slug\",\"restoreTime\":\"yesterday\",\"reason\":\"r\"}", "alice"), _client.Object));

        Assert.Equal(400, status);
        Assert.Contains("\"tenant\"", body, StringComparison.Ordinal);
        Assert.Contains("\"restoreTime\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuarterlyDryRun_StartsOneDrillOfTheConfiguredTenantsAndReportsABusyOneAsSkipped()
    {
        // Two tenants on one registered server; globex-health is held by an active run (acme-health's run must not make acme look busy).
        await using (var connection = await _master.OpenAsync(CancellationToken.None))
        await using (var insert = new NpgsqlCommand(
            """
            INSERT INTO identity.db_server (name, fqdn, port, admin_user, admin_secret_ref, major_version) VALUES ('pg-test', 'pg-test.example', 5432, 'admin', 'pg-admin', 17);
            INSERT INTO identity.tenant (id, slug, db_server, db_config_ref) VALUES (gen_random_uuid(), 'acme', 'pg-test', 'tenant-db-acme'), (gen_random_uuid(), 'globex-health', 'pg-test', 'tenant-db-globex-health');
            """, connection))
        {
            await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        const string holder = "restore-globex-health--20260422143000-abcd1234";
        await new TenantRunLock(_master).TryClaimAsync("globex-health", holder, _ => Task.FromResult(true), CancellationToken.None);
        var busy = new OrchestrationMetadata(RestoreTenantOrchestrator.Name, holder)
        {
            RuntimeStatus = OrchestrationRuntimeStatus.Running,
            SerializedInput = JsonSerializer.Serialize(new RestoreRequest("globex-health", DateTimeOffset.UnixEpoch, RestoreMode.Restore, CutoverStrategy.SwapAndKeep, "r", "alice"), FunctionsServices.Json),
        };
        _client.Setup(c => c.GetAllInstancesAsync(It.IsAny<OrchestrationQuery>()))
            .Returns((OrchestrationQuery q) => new Pages(q.InstanceIdPrefix == RestoreApiHandlers.RunIdPrefix("globex-health") ? [busy] : []));
        _client.Setup(c => c.GetInstanceAsync(It.Is<string>(id => id.StartsWith("drill-", StringComparison.Ordinal)), false, It.IsAny<CancellationToken>()))
            .ReturnsAsync((OrchestrationMetadata?)null);
        RestoreBatchRequest? scheduled = null;
        string? scheduledId = null;
        _client.Setup(c => c.ScheduleNewOrchestrationInstanceAsync(
                It.Is<TaskName>(n => n.Name == RestoreBatchOrchestrator.Name), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()))
            .Callback((TaskName _, object? input, StartOrchestrationOptions? options, CancellationToken _) => (scheduled, scheduledId) = ((RestoreBatchRequest)input!, options!.InstanceId))
            .ReturnsAsync("drill");
        var provisioner = new Mock<IServerProvisioner>(MockBehavior.Strict);
        provisioner.Setup(p => p.GetEarliestRestoreTimeAsync(It.IsAny<DbServerInfo>(), It.IsAny<CancellationToken>())).ReturnsAsync(TimeProvider.System.GetUtcNow().AddDays(-7));
        // Connection secrets RcmPitr never moved: each tenant's database is its canonical one.
        var secrets = new Mock<RcmPitr.Postgres.Connections.ISecretStore>(MockBehavior.Strict);
        secrets.Setup(s => s.GetSecretAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ThrowsAsync(new KeyNotFoundException());
        var function = new QuarterlyDryRunFunction(
            new DrillScheduleOptions { Tenants = "acme, globex-health" }, new RestoreSettings(), new BatchSettings(), TimeProvider.System, new TenantRunLock(_master),
            new TenantResolver(_master, secrets.Object), provisioner.Object, new DecisionLog(_master), NullLogger<QuarterlyDryRunFunction>.Instance);

        var started = await function.Run(new Microsoft.Azure.Functions.Worker.TimerInfo(), _client.Object, CancellationToken.None);

        var id = Assert.Single(started);
        Assert.Equal(id, scheduledId);
        Assert.Matches("^drill-[0-9]{12}$", id);
        Assert.NotNull(scheduled);
        Assert.Equal((true, RestoreMode.DryRun, QuarterlyDryRunFunction.Principal), (scheduled.Drill, scheduled.Mode, scheduled.RequestedBy));
        Assert.Equal(("acme", "pg-test"), (Assert.Single(scheduled.Members).Tenant, scheduled.Members[0].Server));
        var skipped = Assert.Single(scheduled.Skipped);
        Assert.Equal("globex-health", skipped.Tenant);
        Assert.Contains(holder, skipped.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TenantRunLock_TwoStartsAtOnce_ExactlyOneClaimsTheTenant()
    {
        var locks = Enumerable.Range(0, 8).Select(i => new TenantRunLock(_master).TryClaimAsync("acme", $"restore-acme--20260422143000-{i:x8}", _ => Task.FromResult(true), CancellationToken.None));

        var holders = await Task.WhenAll(locks);

        Assert.Single(holders, h => h is null);
        Assert.Single(holders.Where(h => h is not null).Distinct());
    }

    [Fact]
    public async Task TenantRunLock_HolderEnded_NextStartTakesTheTenantOver()
    {
        var tenantRuns = new TenantRunLock(_master);
        await tenantRuns.TryClaimAsync("acme", "restore-acme--1", _ => Task.FromResult(true), CancellationToken.None);

        var busy = await tenantRuns.TryClaimAsync("acme", "restore-acme--2", _ => Task.FromResult(true), CancellationToken.None);
        var afterEnd = await tenantRuns.TryClaimAsync("acme", "restore-acme--3", _ => Task.FromResult(false), CancellationToken.None);

        Assert.Equal("restore-acme--1", busy);
        Assert.Null(afterEnd);
        Assert.Equal("restore-acme--3", await tenantRuns.TryClaimAsync("acme", "restore-acme--4", _ => Task.FromResult(true), CancellationToken.None));
    }

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();

    private RestoreHttpFunctions Functions() => FunctionsHttp.Functions(_master);

    private void SetupAwaitingRun(string id, string requestedBy)
    {
        var request = new RestoreRequest("acme", new DateTimeOffset(2026, 4, 22, 14, 30, 0, TimeSpan.Zero), RestoreMode.Restore, CutoverStrategy.SwapAndKeep, "r", requestedBy)
        {
            RequestedById = ClientPrincipals.OidOf(requestedBy),
        };
        var status = new RestoreStatus("acme", "Restore", "202604221430", "running", AwaitingApproval: true, [], null, null, null);
        _client.Setup(c => c.GetInstanceAsync(id, true, It.IsAny<CancellationToken>())).ReturnsAsync(new OrchestrationMetadata(RestoreTenantOrchestrator.Name, id)
        {
            RuntimeStatus = OrchestrationRuntimeStatus.Running,
            SerializedInput = JsonSerializer.Serialize(request, FunctionsServices.Json),
            SerializedCustomStatus = JsonSerializer.Serialize(status, FunctionsServices.Json),
            CreatedAt = DateTimeOffset.UnixEpoch,
            LastUpdatedAt = DateTimeOffset.UnixEpoch,
        });
    }

    private static HttpRequest Request(string body, string? principal)
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider() };
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("rcm-pitr.azurewebsites.net");
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        context.Request.ContentLength = body.Length;
        context.Response.Body = new MemoryStream();
        if (principal is not null)
        {
            context.Request.Headers[RestoreHttpFunctions.PrincipalHeader] = ClientPrincipals.Blob(ClientPrincipals.OidOf(principal), principal, "RcmPitr.Requester", "RcmPitr.Approver");
        }

        return context.Request;
    }

    private static async Task<(int Status, string Body)> ExecuteAsync(Task<IActionResult> action, HttpRequest? request = null)
    {
        var result = await action;
        var context = request?.HttpContext ?? new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider() };
        if (request is null)
        {
            context.Response.Body = new MemoryStream();
        }

        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new Microsoft.AspNetCore.Mvc.Abstractions.ActionDescriptor()));
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, await new StreamReader(context.Response.Body).ReadToEndAsync());
    }

    private sealed class Pages(IReadOnlyList<OrchestrationMetadata> values) : AsyncPageable<OrchestrationMetadata>
    {
        public override async IAsyncEnumerable<Page<OrchestrationMetadata>> AsPages(string? continuationToken = null, int? pageSizeHint = null)
        {
            await Task.Yield();
            yield return new Page<OrchestrationMetadata>(values);
        }
    }
}
