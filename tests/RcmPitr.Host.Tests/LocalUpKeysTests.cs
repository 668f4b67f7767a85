using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Host.Api;
using RcmPitr.Local;
using RcmPitr.Postgres.Processes;
using RcmPitr.Testing;

namespace RcmPitr.Host.Tests;

/// <summary>What <c>rcm-pitr local up</c> writes for the API: key files only its user can read, hashes in the configuration.</summary>
public sealed class LocalUpKeysTests(HostClusterFixture fx)
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task Up_WritesPrivateKeyFilesAndOnlyTheirHashesWithRolesThatTheHostAccepts()
    {
        fx.RequirePostgres();
        var root = TestClusters.NewRoot();
        var environment = new LocalEnvironment(new LocalLayout(Path.Combine(root, "home")), new ProcessRunner(), TimeProvider.System);
        try
        {
            await environment.UpAsync(TextWriter.Null, TestContext.Current.CancellationToken);
            var layout = environment.Layout;
            var config = await File.ReadAllTextAsync(layout.HostConfig, TestContext.Current.CancellationToken);
            using var app = RcmPitrApp.Build([], layout.HostConfig, builder => builder.WebHost.UseTestServer());
            var keys = app.Services.GetRequiredService<ApiKeys>();

            Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(layout.HostConfig));
            Assert.DoesNotContain("apiKeys", config, StringComparison.OrdinalIgnoreCase);
            foreach (var (principal, roles) in new[] { ("alice", "approver,requester"), ("bob", "approver,requester"), ("carol", "operator") })
            {
                var key = (await File.ReadAllTextAsync(layout.KeyFile(principal), TestContext.Current.CancellationToken)).Trim();
                Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(layout.KeyFile(principal)));
                Assert.DoesNotContain(key, config, StringComparison.Ordinal);
                var authenticated = keys.Authenticate(key);
                Assert.Equal(principal, authenticated!.Id);
                Assert.Equal(roles, string.Join(',', authenticated.Roles.Order()));
            }
        }
        finally
        {
            await environment.DownAsync(purge: true, TextWriter.Null, CancellationToken.None);
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }
}
