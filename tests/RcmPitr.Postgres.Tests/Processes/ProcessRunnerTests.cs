using RcmPitr.Postgres.Processes;

namespace RcmPitr.Postgres.Tests.Processes;

public sealed class ProcessRunnerTests
{
    [Fact]
    public async Task RunAsync_SecretsInTheParentEnvironment_NeverReachTheChild()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var secretName = "RCMPITR_SECRET_PG_ADMIN_" + suffix;
        var identityName = "IDENTITY_HEADER_" + suffix;
        var secretValue = "s3cret-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(secretName, secretValue);
        Environment.SetEnvironmentVariable(identityName, secretValue);
        try
        {
            var result = await new ProcessRunner().RunAsync(
                new ProcessSpec("/usr/bin/env", [], new Dictionary<string, string> { ["PGAPPNAME"] = "rcm-pitr-test" }),
                TestContext.Current.CancellationToken);

            Assert.Equal(0, result.ExitCode);
            Assert.DoesNotContain(secretValue, result.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain(secretName, result.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain(identityName, result.StandardOutput, StringComparison.Ordinal);
            var variables = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)]).ToList();
            Assert.Contains("PATH", variables);
            Assert.Contains("PGAPPNAME=rcm-pitr-test", result.StandardOutput.Split('\n'));
            Assert.All(variables, v => Assert.True(
                v is "PATH" or "HOME" or "TMPDIR" or "TZ" or "LANG" or "LANGUAGE" || v.StartsWith("LC_", StringComparison.Ordinal) || v.StartsWith("PG", StringComparison.Ordinal),
                $"{v} was passed to the child"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(secretName, null);
            Environment.SetEnvironmentVariable(identityName, null);
        }
    }
}
