using Microsoft.DurableTask.Client;
using Moq;
using Npgsql;
using RcmPitr.Api;
using RcmPitr.Functions.Composition;
using RcmPitr.Functions.Http;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Tests;

/// <summary>The Functions app reads bodies with the same reader as the embedded host: strictly, after authentication.</summary>
public sealed class RequestBodyFunctionsTests(FunctionsClusterFixture fx) : IAsyncLifetime
{
    private ControlPlaneDatabase _master = null!;
    private readonly Mock<DurableTaskClient> _client = new(MockBehavior.Strict, "test");

    [Theory]
    [InlineData("""{"tenant":"acme","restoreTime":"2026-04-22T14:30:00Z","reason":"r","mdoe":"dry-run"}""", "application/json", 400, "mdoe")]
    [InlineData("""{"tenant":"acme", """, "application/json", 400, "line 1, position")]
    [InlineData("tenant=acme", "text/plain", 415, "application/json")]
    public async Task Start_BadBody_IsRefusedNamingTheProblem(string body, string contentType, int expected, string named)
    {
        var (status, _, text) = await FunctionsHttp.ExecuteAsync(Functions().Start(FunctionsHttp.Request(body, "alice", contentType), _client.Object));

        Assert.Equal(expected, status);
        Assert.Contains(named, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_BodyWithAByteOrderMark_IsReadAsJson()
    {
        var (status, _, text) = await FunctionsHttp.ExecuteAsync(Functions().Start(
            FunctionsHttp.Request("\uFEFF{\"tenant\":\"acme\",\"mdoe\":\"dry-run\"}", "alice"), _client.Object));

        Assert.Equal(400, status);
        Assert.Contains("\"mdoe\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("not valid JSON", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_BodyOverTheLimit_Is413()
    {
        var (status, _, _) = await FunctionsHttp.ExecuteAsync(Functions().Start(FunctionsHttp.Request(new string(' ', ApiRequestBody.MaxBytes + 1), "alice"), _client.Object));

        Assert.Equal(413, status);
    }

    [Fact]
    public async Task Start_MalformedBodyWithoutAPrincipal_Is401()
    {
        var (status, _, _) = await FunctionsHttp.ExecuteAsync(Functions().Start(FunctionsHttp.Request("""{"tenant": """), _client.Object));

        Assert.Equal(401, status);
    }

    public async ValueTask InitializeAsync() => _master = await fx.NewMasterAsync();

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();

    private RestoreHttpFunctions Functions() =>
        new(new TenantResolver(_master, Mock.Of<RcmPitr.Postgres.Connections.ISecretStore>(MockBehavior.Strict)), Mock.Of<IServerProvisioner>(MockBehavior.Strict), new RestoreSettings(), TimeProvider.System, new AuthOptions(), new StartRateLimiter(new StartRateLimitOptions(), TimeProvider.System), new DecisionLog(_master), new TenantRunLock(_master));
}
