using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class RestoreDatabaseLoaderTests(ClusterFixture fx)
{
    [Fact]
    public async Task LoadAsync_Dump_CreatesSuffixedDatabaseEqualToTheSourceAndLeavesLiveAlone()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var liveBefore = await s.FingerprintAsync(s.Live, tenant.DatabaseName);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);

        var result = await s.Loader.LoadAsync(Input(s, slug, dump), CancellationToken.None);

        Assert.Equal(TenantDatabaseNames.For(TenantSlug.Parse(slug)).Restore(RestoreStamp.Parse(TestData.Stamp), s.RunId), result.DatabaseName);
        Assert.False(result.Reused);
        Assert.True(result.SizeBytes > 0);
        Assert.Equal(await s.FingerprintAsync(s.Pitr, tenant.DatabaseName), await s.FingerprintAsync(s.Live, result.DatabaseName));
        Assert.Equal(liveBefore, await s.FingerprintAsync(s.Live, tenant.DatabaseName));
        Assert.Equal(9L, await s.ScalarAsync<long>(s.Live, result.DatabaseName, "SELECT count(*) FROM members.member"));
        var marker = await MarkerAsync(s, result.DatabaseName);
        Assert.True(marker!.IsLoadedBy(s.RunId));
        Assert.Equal(dump.Sha256, marker.Sha256);
    }

    [Fact]
    public async Task LoadAsync_RunTwice_ReusesTheFinishedLoad()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);
        var first = await s.Loader.LoadAsync(Input(s, slug, dump), CancellationToken.None);
        await s.ExecAsync(s.Live, first.DatabaseName, "CREATE TABLE public.sentinel (x int)");

        var second = await s.Loader.LoadAsync(Input(s, slug, dump), CancellationToken.None);

        Assert.True(second.Reused);
        Assert.Equal(1L, await s.ScalarAsync<long>(s.Live, second.DatabaseName, "SELECT count(*) FROM pg_tables WHERE tablename = 'sentinel'"));
    }

    [Fact]
    public async Task LoadAsync_PgRestoreKilledMidway_RerunDropsOnlyTheSuffixedDatabaseAndReloads()
    {
        var runner = new RecordingProcessRunner(fx.Processes);
        await using var s = await Scenario.StartAsync(fx, runner);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        await TestData.AddFillerAsync(s, s.Pitr, tenant.DatabaseName);
        var liveBefore = await s.FingerprintAsync(s.Live, tenant.DatabaseName);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);
        runner.CrashTool = "pg_restore";
        runner.CrashAfter = TimeSpan.FromMilliseconds(400);

        await Assert.ThrowsAsync<SimulatedCrashException>(() => s.Loader.LoadAsync(Input(s, slug, dump), CancellationToken.None));
        var restoreName = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Restore(RestoreStamp.Parse(TestData.Stamp), s.RunId);
        Assert.Equal(DatabaseMarker.Loading, (await MarkerAsync(s, restoreName))!.State);

        runner.CrashTool = null;
        var result = await s.Loader.LoadAsync(Input(s, slug, dump), CancellationToken.None);

        Assert.False(result.Reused);
        Assert.Equal(600_000L, await s.ScalarAsync<long>(s.Live, result.DatabaseName, "SELECT count(*) FROM claims.claim_line"));
        Assert.Equal(liveBefore, await s.FingerprintAsync(s.Live, tenant.DatabaseName));
        Assert.True((await MarkerAsync(s, restoreName))!.IsLoadedBy(s.RunId));
    }

    [Fact]
    public async Task LoadAsync_DatabaseOfAnotherRun_IsKeptAndThisRunLoadsItsOwn()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var otherDump = await s.Dumper.DumpAsync(new DumpTenantInput("other-run", s.Pitr, slug, TestData.Stamp), CancellationToken.None);
        var other = await s.Loader.LoadAsync(Input(s, slug, otherDump) with { RunId = "other-run" }, CancellationToken.None);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);

        var mine = await s.Loader.LoadAsync(Input(s, slug, dump), CancellationToken.None);

        Assert.NotEqual(other.DatabaseName, mine.DatabaseName);
        Assert.True((await MarkerAsync(s, other.DatabaseName))!.IsLoadedBy("other-run"));
        Assert.True((await MarkerAsync(s, mine.DatabaseName))!.IsLoadedBy(s.RunId));
    }

    [Fact]
    public async Task LoadAsync_CorruptDump_FailsWithPgRestoreStderrAsARefusal()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);
        await File.WriteAllTextAsync(dump.DumpPath, "not a dump", TestContext.Current.CancellationToken);
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("not a dump"u8));

        var error = await Assert.ThrowsAsync<PgToolFailedException>(
            () => s.Loader.LoadAsync(Input(s, slug, dump) with { DumpSha256 = sha256 }, CancellationToken.None));

        Assert.Equal("pg_restore", error.Tool);
        Assert.False(string.IsNullOrWhiteSpace(error.StandardError));
        Assert.True(Workflow.Orchestration.ActivityFailureDetails.FromException(error).IsRefusal);
    }

    [Fact]
    public async Task LoadAsync_AsOfTarget_CreatesTheSnapshotDatabase()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);

        var result = await s.Loader.LoadAsync(Input(s, slug, dump) with { Target = DerivedDatabaseKind.AsOf }, CancellationToken.None);

        Assert.Equal(TenantDatabaseNames.For(TenantSlug.Parse(slug)).AsOf(RestoreStamp.Parse(TestData.Stamp), s.RunId), result.DatabaseName);
        Assert.Equal(9L, await s.ScalarAsync<long>(s.Live, result.DatabaseName, "SELECT count(*) FROM members.member"));
    }

    [Fact]
    public async Task LoadAsync_DumpReplacedAfterTheDumpStep_IsRefusedAndNothingIsLoaded()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);
        var planted = await PlantedDumpAsync(s);
        File.Copy(planted.DumpPath, dump.DumpPath, overwrite: true);

        var error = await Assert.ThrowsAsync<DumpVerificationFailedException>(() => s.Loader.LoadAsync(Input(s, slug, dump), CancellationToken.None));

        Assert.Contains(dump.Sha256, error.Message, StringComparison.Ordinal);
        Assert.Contains("not loaded", error.Message, StringComparison.Ordinal);
        var target = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Restore(RestoreStamp.Parse(TestData.Stamp), s.RunId);
        Assert.Equal(0L, await s.ScalarAsync<long>(s.Live, target, "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"));
        Assert.Equal(5L, await s.ScalarAsync<long>(s.Live, tenant.DatabaseName, "SELECT count(*) FROM members.member"));
    }

    [Fact]
    public async Task LoadAsync_DumpPathOutsideTheRunsScratch_IsRefused()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);
        var planted = await PlantedDumpAsync(s);

        var error = await Assert.ThrowsAsync<InvalidRestoreInputException>(
            () => s.Loader.LoadAsync(Input(s, slug, dump) with { DumpPath = planted.DumpPath, DumpSha256 = planted.Sha256 }, CancellationToken.None));

        Assert.Equal("dumpPath", error.Field);
        var target = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Restore(RestoreStamp.Parse(TestData.Stamp), s.RunId);
        Assert.Null(await MarkerAsync(s, target));
    }

    /// <summary>A valid dump of another tenant (a planted table in it), taken by another run.</summary>
    private static async Task<DumpTenantResult> PlantedDumpAsync(Scenario s)
    {
        var other = s.NewSlug("planted");
        var tenant = await s.AddTenantAsync(other, liveMembers: 1, pitrMembers: 1);
        await s.ExecAsync(s.Pitr, tenant.DatabaseName, "CREATE TABLE public.planted (x int)");
        return await s.Dumper.DumpAsync(new DumpTenantInput("planting-run", s.Pitr, other, TestData.Stamp), CancellationToken.None);
    }

    internal static RestoreDatabaseInput Input(Scenario s, string slug, DumpTenantResult dump) =>
        new(s.RunId, s.Live, slug, TestData.Stamp, dump.DumpPath, dump.Sha256);

    internal static async Task<DatabaseMarker?> MarkerAsync(Scenario s, string database)
    {
        await using var connection = await s.Connector.OpenMaintenanceAsync(s.Live, CancellationToken.None);
        return (await new ServerCatalog(connection).FindAsync(database, CancellationToken.None))?.Marker;
    }
}
