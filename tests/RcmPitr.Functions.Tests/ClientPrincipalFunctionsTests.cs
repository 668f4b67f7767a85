using System.Text;
using System.Text.Json;
using Microsoft.DurableTask.Client;
using Moq;
using Npgsql;
using RcmPitr.Api;
using RcmPitr.Functions.Composition;
using RcmPitr.Functions.Http;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Tests;

/// <summary>
/// Who calls the Functions app: the principal App Service authentication verified (<c>X-MS-CLIENT-PRINCIPAL</c>, its
/// Entra object id and app roles), never a header a client could set on its own.
/// </summary>
public sealed class ClientPrincipalFunctionsTests(FunctionsClusterFixture fx) : IAsyncLifetime
{
    private const string AliceOid = "6f1d2c3b-0a9e-4f8d-b7c6-5e4d3c2b1a09";
    private const string BobOid = "0c9b8a7f-6e5d-4c3b-a291-8f7e6d5c4b3a";

    private ControlPlaneDatabase _master = null!;
    private readonly Mock<DurableTaskClient> _client = new(MockBehavior.Strict, "test");

    [Fact]
    public async Task Approve_WithOnlyTheNameHeader_Is401AndRaisesNothing()
    {
        SetupAwaitingRun("run-1", requesterId: AliceOid);
        var request = FunctionsHttp.Request("{}");
        request.Headers["X-MS-CLIENT-PRINCIPAL-NAME"] = "bob";

        var (status, _, _) = await FunctionsHttp.ExecuteAsync(Functions().Approve(request, "run-1", _client.Object));

        Assert.Equal(401, status);
        _client.Verify(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Approve_WithAVerifiedClientPrincipal_DecidesAsItsObjectId()
    {
        SetupAwaitingRun("run-1", requesterId: AliceOid);
        _client.Setup(c => c.RaiseEventAsync("run-1", RestoreEvents.Approval,
                It.Is<ApprovalDecision>(d => d.Approved && d.DecidedById == BobOid && d.DecidedBy == "Bob Jones" && d.Comment == "ok"), It.IsAny<CancellationToken>()))
            .Returns(Task.CompletedTask);
        var request = FunctionsHttp.Request("{\"comment\":\"ok\"}");
        request.Headers["X-MS-CLIENT-PRINCIPAL"] = ClientPrincipals.Blob(BobOid, "Bob Jones", "RcmPitr.Approver");
        request.Headers["X-MS-CLIENT-PRINCIPAL-ID"] = BobOid;
        request.Headers["X-MS-CLIENT-PRINCIPAL-NAME"] = "alice";

        var (status, _, _) = await FunctionsHttp.ExecuteAsync(Functions().Approve(request, "run-1", _client.Object));

        Assert.Equal(202, status);
        _client.VerifyAll();
    }

    [Theory]
    [InlineData("not base64")]
    [InlineData("not JSON")]
    [InlineData("no object id")]
    [InlineData("object id not a GUID")]
    [InlineData("two object ids")]
    [InlineData("id header differs")]
    public async Task Approve_MalformedOrMismatchedClientPrincipal_Is401AndRaisesNothing(string scenario)
    {
        SetupAwaitingRun("run-1", requesterId: AliceOid);
        var request = FunctionsHttp.Request("{}");
        request.Headers["X-MS-CLIENT-PRINCIPAL"] = scenario switch
        {
            "not base64" => "%%% not base64 %%%",
            "not JSON" => Convert.ToBase64String(Encoding.UTF8.GetBytes("bob")),
            "no object id" => ClientPrincipals.Encode(new { claims = new[] { new { typ = "name", val = "bob" } } }),
            "object id not a GUID" => ClientPrincipals.Encode(new { claims = new[] { new { typ = "oid", val = "bob" } } }),
            "two object ids" => ClientPrincipals.Encode(new { claims = new[] { new { typ = "oid", val = BobOid }, new { typ = AppServicePrincipal.ObjectIdClaim, val = AliceOid } } }),
            _ => ClientPrincipals.Blob(BobOid, "bob", "RcmPitr.Approver"),
        };
        request.Headers["X-MS-CLIENT-PRINCIPAL-ID"] = scenario == "id header differs" ? AliceOid : BobOid;
        request.Headers["X-MS-CLIENT-PRINCIPAL-NAME"] = "bob";

        var (status, _, body) = await FunctionsHttp.ExecuteAsync(Functions().Approve(request, "run-1", _client.Object));

        Assert.Equal(401, status);
        Assert.Contains("No verified principal", body, StringComparison.Ordinal);
        _client.Verify(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Approve_ByTheRequesterUnderAnotherCaseOfItsObjectId_Is403()
    {
        SetupAwaitingRun("run-1", requesterId: AliceOid);
        var request = FunctionsHttp.Request("{}");
        request.Headers["X-MS-CLIENT-PRINCIPAL"] = ClientPrincipals.Blob(AliceOid.ToUpperInvariant(), "Alice Smith", "RcmPitr.Approver");

        var (status, _, _) = await FunctionsHttp.ExecuteAsync(Functions().Approve(request, "run-1", _client.Object));

        Assert.Equal(403, status);
        _client.Verify(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public void TryRead_AppRolesThroughTheConfiguredMap_GrantOnlyTheMappedRoles()
    {
        const string roleType = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
        var headers = FunctionsHttp.Request(string.Empty).Headers;
        headers["X-MS-CLIENT-PRINCIPAL"] = ClientPrincipals.Encode(new
        {
            auth_typ = "aad",
            claims = new[]
            {
                new { typ = AppServicePrincipal.ObjectIdClaim, val = BobOid.ToUpperInvariant() },
                new { typ = "preferred_username", val = "bob@example.org" },
                new { typ = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", val = "Bob Jones" },
                new { typ = roleType, val = "Restore.Approve" },
                new { typ = roleType, val = "RcmPitr.Operator" },
                new { typ = roleType, val = "RcmPitr.Requester" },
            },
            name_typ = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
            role_typ = roleType,
        });
        var roles = new AuthRoleOptions { Approver = "Restore.Approve", Operator = string.Empty }.ToMap();

        var read = AppServicePrincipal.TryRead(headers, roles, out var principal, out _);

        Assert.True(read);
        Assert.Equal(BobOid, principal!.Id);
        Assert.Equal("Bob Jones", principal.Name);
        Assert.Equal(["approver", "requester"], principal.Roles.Order());
    }

    public async ValueTask InitializeAsync() => _master = await fx.NewMasterAsync();

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();

    private RestoreHttpFunctions Functions() =>
        new(new TenantResolver(_master, Mock.Of<RcmPitr.Postgres.Connections.ISecretStore>(MockBehavior.Strict)), Mock.Of<IServerProvisioner>(MockBehavior.Strict), new RestoreSettings(), TimeProvider.System, new AuthOptions(), new StartRateLimiter(new StartRateLimitOptions(), TimeProvider.System), new DecisionLog(_master), new TenantRunLock(_master));

    private void SetupAwaitingRun(string id, string requesterId)
    {
        var request = new RestoreRequest("acme", new DateTimeOffset(2026, 4, 22, 14, 30, 0, TimeSpan.Zero), RestoreMode.Restore, CutoverStrategy.SwapAndKeep, "r", "Alice Smith")
        {
            RequestedById = requesterId,
        };
        var status = new RestoreStatus("acme", "Restore", "20260422143000", "running", AwaitingApproval: true, [], null, null, null);
        _client.Setup(c => c.GetInstanceAsync(id, true, It.IsAny<CancellationToken>())).ReturnsAsync(new OrchestrationMetadata(RestoreTenantOrchestrator.Name, id)
        {
            RuntimeStatus = OrchestrationRuntimeStatus.Running,
            SerializedInput = JsonSerializer.Serialize(request, FunctionsServices.Json),
            SerializedCustomStatus = JsonSerializer.Serialize(status, FunctionsServices.Json),
            CreatedAt = DateTimeOffset.UnixEpoch,
            LastUpdatedAt = DateTimeOffset.UnixEpoch,
        });
    }
}
