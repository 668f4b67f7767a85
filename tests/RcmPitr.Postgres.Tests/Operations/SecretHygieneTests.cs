using RcmPitr.Postgres.Processes;
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
        AssertPassFilesPrivateOffScratchAndGone(s, runner);
    }

    [Theory]
    [InlineData(TransferMode.Streaming)]
    [InlineData(TransferMode.Parallel)]
    [InlineData(TransferMode.Runbook)]
    public async Task MoveAsync_EveryMode_NoPasswordInArgvEnvironmentOrLogsAndNoRowDataInLogs(TransferMode mode)
    {
        var runner = new RecordingProcessRunner(fx.Processes);
        await using var s = await Scenario.StartAsync(fx, runner);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        var marker = "ROW" + Guid.NewGuid().ToString("N");
        await s.ExecAsync(s.Pitr, tenant.DatabaseName, $"CREATE TABLE public.note (id int PRIMARY KEY, body text); INSERT INTO public.note VALUES (1, '{marker}')");

        await s.Transfer.MoveAsync(new MoveTenantInput(s.RunId, s.Pitr, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.Restore, mode), CancellationToken.None);

        var passwords = await PasswordsAsync();
        var toolRuns = runner.Started.Where(p => Path.GetFileName(p.FileName) is "pg_dump" or "pg_restore" && !p.Arguments.Contains("--version")).ToList();
        Assert.True(toolRuns.Count >= 2, $"{toolRuns.Count} tool runs");
        foreach (var run in toolRuns)
        {
            Assert.All(run.Arguments, a => Assert.DoesNotContain(passwords, p => a.Contains(p, StringComparison.Ordinal)));
            Assert.DoesNotContain(passwords, p => run.Environment?.Values.Any(v => v.Contains(p, StringComparison.Ordinal)) == true);
            if (Path.GetFileName(run.FileName) == "pg_restore" && !run.Arguments.Any(a => a.StartsWith("--dbname=", StringComparison.Ordinal)))
            {
                continue; // --list or --file: reads a dump, writes a file, connects nowhere
            }

            Assert.True(string.IsNullOrEmpty(run.Environment!["PGPASSWORD"]));
        }

        Assert.True(runner.PassFileSnapshots.Count >= 2, $"{runner.PassFileSnapshots.Count} pass files");
        AssertPassFilesPrivateOffScratchAndGone(s, runner);
        var logs = s.Logs.All;
        Assert.NotEmpty(s.Logs.Entries);
        Assert.DoesNotContain(passwords, p => logs.Contains(p, StringComparison.Ordinal));
        Assert.DoesNotContain("Password=", logs, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(marker, logs, StringComparison.Ordinal);
    }

    private async Task<string[]> PasswordsAsync() =>
    [
        await fx.Secrets.GetSecretAsync(ClusterFixture.LiveSecretRef, CancellationToken.None),
        await fx.Secrets.GetSecretAsync(ClusterFixture.PitrSecretRef, CancellationToken.None),
    ];

    private static void AssertPassFilesPrivateOffScratchAndGone(Scenario s, RecordingProcessRunner runner)
    {
        var scratch = Path.GetFullPath(s.Mover.ScratchDirectory) + Path.DirectorySeparatorChar;
        Assert.All(runner.PassFileSnapshots, f =>
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, f.Mode);
            Assert.False(Path.GetFullPath(f.Path).StartsWith(scratch, StringComparison.Ordinal), $"pass file {f.Path} is on scratch");
            Assert.False(File.Exists(f.Path));
        });
        if (Directory.Exists(scratch))
        {
            Assert.Empty(Directory.EnumerateFiles(scratch, ".pgpass*", SearchOption.AllDirectories));
        }
    }
}
