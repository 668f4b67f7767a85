using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class TenantDumperTests(ClusterFixture fx)
{
    [Fact]
    public async Task DumpAsync_TenantOnPitrServer_WritesPrivateCompleteDumpWithChecksum()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 8);

        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);

        Assert.False(dump.Reused);
        Assert.True(File.Exists(dump.DumpPath));
        Assert.EndsWith($"rcm-restore-{slug}-{TestData.Stamp}.dump", dump.DumpPath, StringComparison.Ordinal);
        Assert.Equal(new FileInfo(dump.DumpPath).Length, dump.SizeBytes);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dump.DumpPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(dump.DumpPath)!));
        Assert.Matches("^[0-9a-f]{64}$", dump.Sha256);
        Assert.Equal("PGDMP", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(dump.DumpPath)[..5]));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(dump.DumpPath)!, "*.partial"));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(dump.DumpPath)!, ".pgpass-*"));
    }

    [Fact]
    public async Task DumpAsync_RunTwice_ReusesTheVerifiedDump()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 8);
        var input = new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp);

        var first = await s.Dumper.DumpAsync(input, CancellationToken.None);
        var second = await s.Dumper.DumpAsync(input, CancellationToken.None);

        Assert.True(second.Reused);
        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(first.DumpPath)!, "*.dump"));
    }

    [Fact]
    public async Task DumpAsync_DamagedEarlierDump_IsRedone()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 8);
        var input = new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp);
        var first = await s.Dumper.DumpAsync(input, CancellationToken.None);
        await using (var stream = new FileStream(first.DumpPath, FileMode.Open, FileAccess.Write))
        {
            stream.Position = first.SizeBytes / 2;
            stream.WriteByte(0x5A);
        }

        var second = await s.Dumper.DumpAsync(input, CancellationToken.None);

        Assert.False(second.Reused);
        Assert.Equal(second.Sha256, await Sha256Async(second.DumpPath));
    }

    [Fact]
    public async Task DumpAsync_PgDumpKilledMidway_RerunConvergesToOneCompleteDump()
    {
        var runner = new RecordingProcessRunner(fx.Processes) { CrashTool = "pg_dump", CrashAfter = TimeSpan.FromMilliseconds(250) };
        await using var s = await Scenario.StartAsync(fx, runner);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 8);
        await TestData.AddFillerAsync(s, s.Pitr, tenant.DatabaseName);
        var input = new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp);

        await Assert.ThrowsAsync<SimulatedCrashException>(() => s.Dumper.DumpAsync(input, CancellationToken.None));
        var runDirectory = s.Mover.RunDirectory(s.RunId);
        Assert.NotEmpty(Directory.GetFiles(runDirectory, "*.partial"));
        Assert.Empty(Directory.GetFiles(runDirectory, "*.dump"));

        runner.CrashTool = null;
        var dump = await s.Dumper.DumpAsync(input, CancellationToken.None);

        Assert.False(dump.Reused);
        Assert.Empty(Directory.GetFiles(runDirectory, "*.partial"));
        Assert.Single(Directory.GetFiles(runDirectory, "*.dump"));
        Assert.Equal(dump.Sha256, await Sha256Async(dump.DumpPath));
    }

    [Fact]
    public async Task DumpAsync_MissingDatabase_SurfacesPgDumpStderr()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();

        var error = await Assert.ThrowsAsync<PgToolFailedException>(
            () => s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None));

        Assert.Equal("pg_dump", error.Tool);
        Assert.Contains("does not exist", error.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(s.Mover.RunDirectory(s.RunId)));
    }

    [Fact]
    public async Task DeleteAsync_RemovesTheRunsScratchFolderAndIsIdempotent()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 8);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);

        var first = await s.Dumper.DeleteAsync(new DeleteDumpInput(s.RunId), CancellationToken.None);
        var second = await s.Dumper.DeleteAsync(new DeleteDumpInput(s.RunId), CancellationToken.None);

        Assert.Equal(2, first.FilesDeleted);
        Assert.True(first.BytesFreed >= dump.SizeBytes);
        Assert.Equal(0, second.FilesDeleted);
        Assert.False(Directory.Exists(s.Mover.RunDirectory(s.RunId)));
    }

    private static async Task<string> Sha256Async(string path)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream));
    }
}
