using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RcmPitr.Host.Tests;

/// <summary>
/// The embedded host's principals: configured by name with the SHA-256 of their key and their roles; a configuration
/// that could let one key stand for two principals, or a guessable key in, is refused when the host is built.
/// </summary>
public sealed class ApiPrincipalsTests(HostClusterFixture fx)
{
    private const string CarolKey = "key-carol-00112233445566778899aabbccdd";

    [Fact]
    public async Task Request_KeyOfAPrincipalConfiguredByHash_IsAuthenticated()
    {
        await using var run = await HostRun.StartAsync(fx, settings: new Dictionary<string, string?>
        {
            ["RcmPitr:Principals:carol:KeySha256"] = Sha256Hex(CarolKey),
            ["RcmPitr:Principals:carol:Roles:0"] = "operator",
        });

        using var carol = await run.ClientWithKey(CarolKey).GetAsync("/api/restores", TestContext.Current.CancellationToken);
        using var hashAsKey = await run.ClientWithKey(Sha256Hex(CarolKey)).GetAsync("/api/restores", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, carol.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, hashAsKey.StatusCode);
    }

    [Theory]
    [InlineData("malformed hash", "carol")]
    [InlineData("short hash", "carol")]
    [InlineData("unknown role", "aprover")]
    [InlineData("no key", "carol")]
    [InlineData("same id after trimming and case-folding", "alice")]
    [InlineData("one key for two principals", "dave")]
    [InlineData("short plaintext key", "erin")]
    [InlineData("plaintext key of another principal", "frank")]
    [InlineData("plaintext key naming a configured principal", "alice")]
    public void Build_AmbiguousOrWeakPrincipals_IsRefusedNamingThePrincipalNotTheKey(string scenario, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["RcmPitr:Principals:alice:KeySha256"] = Sha256Hex(AliceKey),
            ["RcmPitr:Principals:alice:Roles:0"] = "requester",
        };
        foreach (var (key, value) in Scenario(scenario))
        {
            settings[key] = value;
        }

        var error = Assert.Throws<InvalidOperationException>(() => ((IDisposable)Build(settings)).Dispose());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        foreach (var secret in new[] { AliceKey, CarolKey, Sha256Hex(AliceKey), Sha256Hex(CarolKey), "short-key", "not-a-hash" })
        {
            Assert.DoesNotContain(secret, error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Authenticate_ConfiguredPrincipals_AreTheirIdsWithTheirRolesRequesterAndApproverByDefault()
    {
        using var app = Build(new Dictionary<string, string?>
        {
            ["RcmPitr:Principals:Alice:KeySha256"] = Sha256Hex(AliceKey).ToUpperInvariant(),
            ["RcmPitr:Principals:carol:KeySha256"] = Sha256Hex(CarolKey),
            ["RcmPitr:Principals:carol:Roles:0"] = " Operator ",
        });
        var keys = app.Services.GetRequiredService<Api.ApiKeys>();

        var alice = keys.Authenticate(AliceKey);
        var carol = keys.Authenticate(CarolKey);

        Assert.Equal(("alice", "Alice"), (alice!.Id, alice.Name));
        Assert.Equal(["approver", "requester"], alice.Roles.Order());
        Assert.Equal(["operator"], carol!.Roles);
        Assert.Null(keys.Authenticate(AliceKey + "x"));
        Assert.Null(keys.Authenticate(Sha256Hex(AliceKey)));
        Assert.Null(keys.Authenticate(string.Empty));
    }

    [Fact]
    public void Build_LegacyPlaintextKeys_AreHashedDroppedFromTheOptionsAndWarnedAbout()
    {
        var logs = new List<string>();

        using var app = Build(new Dictionary<string, string?>
        {
            [$"RcmPitr:ApiKeys:{AliceKey}"] = " Alice ",
            [$"RcmPitr:ApiKeys:{CarolKey}"] = "alice",
        }, logs);
        var keys = app.Services.GetRequiredService<Api.ApiKeys>();

        Assert.Empty(app.Services.GetRequiredService<Composition.RcmPitrOptions>().ApiKeys);
        Assert.Equal("alice", keys.Authenticate(AliceKey)!.Id);
        Assert.Equal("alice", keys.Authenticate(CarolKey)!.Id);
        Assert.Equal(["approver", "requester"], keys.Authenticate(AliceKey)!.Roles.Order());
        var warning = Assert.Single(logs, l => l.Contains("RcmPitr:ApiKeys", StringComparison.Ordinal));
        Assert.Contains("alice", warning, StringComparison.Ordinal);
        Assert.DoesNotContain(AliceKey, warning, StringComparison.Ordinal);
    }

    private const string AliceKey = "key-alice-00112233445566778899aabbccdd";

    private static Dictionary<string, string?> Scenario(string name) => name switch
    {
        "malformed hash" => new() { ["RcmPitr:Principals:carol:KeySha256"] = "not-a-hash" },
        "short hash" => new() { ["RcmPitr:Principals:carol:KeySha256"] = Sha256Hex(CarolKey)[..60] },
        "unknown role" => new() { ["RcmPitr:Principals:carol:KeySha256"] = Sha256Hex(CarolKey), ["RcmPitr:Principals:carol:Roles:0"] = "aprover" },
        "no key" => new() { ["RcmPitr:Principals:carol:Roles:0"] = "operator" },
        "same id after trimming and case-folding" => new() { ["RcmPitr:Principals: Alice :KeySha256"] = Sha256Hex(CarolKey) },
        "one key for two principals" => new() { ["RcmPitr:Principals:dave:KeySha256"] = Sha256Hex(AliceKey) },
        "short plaintext key" => new() { ["RcmPitr:ApiKeys:short-key"] = "erin" },
        "plaintext key of another principal" => new() { [$"RcmPitr:ApiKeys:{AliceKey}"] = "frank" },
        "plaintext key naming a configured principal" => new() { [$"RcmPitr:ApiKeys:{CarolKey}"] = "Alice" },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    internal static string Sha256Hex(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static WebApplication Build(Dictionary<string, string?> settings, List<string>? logs = null) =>
        RcmPitrApp.Build([], configure: builder =>
        {
            builder.WebHost.UseTestServer();
            builder.Configuration.AddInMemoryCollection(settings);
            if (logs is not null)
            {
                builder.Logging.AddProvider(new CollectingLoggerProvider(logs));
            }
        });

    /// <summary>Keeps every formatted log message.</summary>
    private sealed class CollectingLoggerProvider(List<string> messages) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (messages)
            {
                messages.Add(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }
}
