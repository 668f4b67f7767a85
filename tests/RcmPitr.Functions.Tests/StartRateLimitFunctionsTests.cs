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

/// <summary>The Functions app limits starts per principal with the embedded host's limiter.</summary>
public sealed class StartRateLimitFunctionsTests(FunctionsClusterFixture fx) : IAsyncLifetime
{
    private ControlPlaneDatabase _master = null!;
    private readonly Mock<DurableTaskClient> _client = new(MockBehavior.Strict, "test");

    [Fact]
    public async Task Start_PrincipalOverItsLimit_Is429WithRetryAfterAndReachesNothing()
    {
        var limiter = new StartRateLimiter(new StartRateLimitOptions { StartsPerWindow = 1, Window = TimeSpan.FromHours(1) }, TimeProvider.System);
        Assert.True(limiter.TryReserve(ClientPrincipals.OidOf("alice"), out _, out _));
        var functions = FunctionsHttp.Functions(_master, limiter);

        var (status, headers, body) = await FunctionsHttp.ExecuteAsync(functions.Start(
            FunctionsHttp.Request("""{"tenant":"acme","restoreTime":"2026-04-22T14:30:00Z","reason":"r"}""", "alice"), _client.Object));

        Assert.Equal(429, status);
        Assert.InRange(int.Parse(headers.RetryAfter.ToString(), System.Globalization.CultureInfo.InvariantCulture), 3500, 3600);
        Assert.Contains("Too many starts", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_PrincipalOverItsLimit_Is429AndReachesNothing()
    {
        var limiter = new StartRateLimiter(new StartRateLimitOptions { StartsPerWindow = 1, Window = TimeSpan.FromHours(1) }, TimeProvider.System);
        Assert.True(limiter.TryReserve(ClientPrincipals.OidOf("carol"), out _, out _));
        var functions = FunctionsHttp.Functions(_master, limiter);

        // The strict client mock fails the test if the handler reaches Durable at all.
        var (status, _, body) = await FunctionsHttp.ExecuteAsync(functions.Rollback(
            FunctionsHttp.Request("""{"reason":"the restore brought back the wrong data"}""", "carol"), "restore-acme--20260422143000-abcd1234", _client.Object));

        Assert.Equal(429, status);
        Assert.Contains("Too many starts", body, StringComparison.Ordinal);
    }

    public async ValueTask InitializeAsync() => _master = await fx.NewMasterAsync();

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();
}
