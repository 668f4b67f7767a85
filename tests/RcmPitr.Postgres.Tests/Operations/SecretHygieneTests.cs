using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Tests.Operations;

/// <summary>Invariant 5: passwords reach pg tools through a 0600 pgpass file, never argv, and the file does not outlive the call.</summary>
public sealed class SecretHygieneTests(ClusterFixture fx)
{
    [Fact]
    public async Task DumpAndLoad_PgTools_GetNoPasswordInArgvAndThePassFileIsRemoved()
    {
        var runner = new RecordingProcessRunner(fx.Processes);
        await using var s = await Scenario.StartAsync(fx, runner);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);

        await Restores.DumpAndLoadAsync(s, slug);

        var passwords = new[]
        {
            await fx.Secrets.GetSecretAsync(ClusterFixture.LiveSecretRef, CancellationToken.None),
            await fx.Secrets.GetSecretAsync(ClusterFixture.PitrSecretRef, CancellationToken.None),
        };
        var toolRuns = runner.Started.Where(p => Path.GetFileName(p.FileName) is "pg_dump" or "pg_restore").ToList();
        Assert.Equal(2, toolRuns.Count(p => !p.Arguments.Contains("--version")));
        foreach (var run in toolRuns)
        {
            Assert.All(run.Arguments, a => Assert.DoesNotContain(passwords, p => a.Contains(p, StringComparison.Ordinal)));
            if (run.Arguments.Contains("--version"))
            {
                continue;
            }

            Assert.True(string.IsNullOrEmpty(run.Environment!["PGPASSWORD"]));
            Assert.DoesNotContain(passwords, p => run.Environment.Values.Any(v => v.Contains(p, StringComparison.Ordinal)));
        }

        Assert.Equal(2, runner.PassFileSnapshots.Count);
        Assert.All(runner.PassFileSnapshots, f =>
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, f.Mode);
            Assert.False(File.Exists(f.Path));
        });
    }
}
