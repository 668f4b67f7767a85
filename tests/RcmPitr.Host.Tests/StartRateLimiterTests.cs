using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Api;

namespace RcmPitr.Host.Tests;

/// <summary>The per-principal start limit itself, on a clock the test moves.</summary>
public sealed class StartRateLimiterTests
{
    private static readonly Principal Alice = Principal.Create("alice", "alice", [PrincipalRoles.Requester]);
    private static readonly Principal Bob = Principal.Create("bob", "bob", [PrincipalRoles.Requester]);

    [Fact]
    public async Task LimitAsync_OverTheLimit_Is429UntilTheOldestStartLeavesTheWindow()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.Zero));
        var limiter = Limiter(clock, starts: 2);

        var first = await limiter.LimitAsync(Alice, Accepted);
        clock.Now += TimeSpan.FromMinutes(10);
        var second = await limiter.LimitAsync(Alice, Accepted);
        clock.Now += TimeSpan.FromMinutes(10);
        var third = await ExecuteAsync(await limiter.LimitAsync(Alice, Accepted));
        var bob = await limiter.LimitAsync(Bob, Accepted);
        clock.Now += TimeSpan.FromMinutes(40) - TimeSpan.FromSeconds(1);
        var stillRefused = await ExecuteAsync(await limiter.LimitAsync(Alice, Accepted));
        clock.Now += TimeSpan.FromSeconds(1);
        var afterTheFirstLeft = await limiter.LimitAsync(Alice, Accepted);

        Assert.All([first, second, bob, afterTheFirstLeft], r => Assert.Equal(202, StatusOf(r)));
        Assert.Equal((429, "2400"), third);
        Assert.Equal((429, "1"), stillRefused);
    }

    [Fact]
    public async Task LimitAsync_StartsNotAcceptedOrThrowing_DoNotCount()
    {
        var limiter = Limiter(new ManualClock(DateTimeOffset.UnixEpoch), starts: 1);

        var refused = await limiter.LimitAsync(Alice, () => Task.FromResult<IResult>(TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["tenant"] = ["x"] })));
        var conflict = await limiter.LimitAsync(Alice, () => Task.FromResult<IResult>(TypedResults.Conflict()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => limiter.LimitAsync(Alice, () => throw new InvalidOperationException("engine down")));
        var accepted = await limiter.LimitAsync(Alice, Accepted);
        var next = await limiter.LimitAsync(Alice, Accepted);

        Assert.Equal(400, StatusOf(refused));
        Assert.Equal(409, StatusOf(conflict));
        Assert.Equal(202, StatusOf(accepted));
        Assert.Equal(429, StatusOf(next));
    }

    [Fact]
    public async Task LimitAsync_LimitZero_NeverRefuses()
    {
        var limiter = Limiter(new ManualClock(DateTimeOffset.UnixEpoch), starts: 0);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(202, StatusOf(await limiter.LimitAsync(Alice, Accepted)));
        }
    }

    private static StartRateLimiter Limiter(TimeProvider clock, int starts) =>
        new(new StartRateLimitOptions { StartsPerWindow = starts, Window = TimeSpan.FromHours(1) }, clock);

    private static Task<IResult> Accepted() => Task.FromResult<IResult>(TypedResults.Accepted("/api/restores/x"));

    private static int? StatusOf(IResult result) => (result as IStatusCodeHttpResult)?.StatusCode;

    private static async Task<(int Status, string RetryAfter)> ExecuteAsync(IResult result)
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider() };
        context.Response.Body = new MemoryStream();
        await result.ExecuteAsync(context);
        return (context.Response.StatusCode, context.Response.Headers.RetryAfter.ToString());
    }
}
