using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class RestorePreflightTests(ClusterFixture fx)
{
    [Fact]
    public async Task CheckAsync_HealthySetup_ReportsVersionsSizesAndExtensions()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        await s.ExecAsync(s.Pitr, tenant.DatabaseName, "CREATE EXTENSION IF NOT EXISTS pgcrypto");

        var result = await s.Preflight.CheckAsync(new PreflightInput(s.Pitr, s.Live, slug), CancellationToken.None);

        Assert.Equal(fx.Pitr.MajorVersion, result.SourceMajorVersion);
        Assert.Equal(fx.Live.MajorVersion, result.LiveMajorVersion);
        Assert.Contains($"(PostgreSQL) {fx.Pitr.MajorVersion}", result.PgDumpVersion, StringComparison.Ordinal);
        Assert.True(result.DatabaseSizeBytes > 0);
        Assert.Equal((long)Math.Ceiling(result.DatabaseSizeBytes * 2.0), result.ScratchRequiredBytes);
        Assert.True(result.ScratchFreeBytes >= result.ScratchRequiredBytes);
        var pgcrypto = Assert.Single(result.Extensions);
        Assert.Equal("pgcrypto", pgcrypto.Name);
        Assert.True(pgcrypto.AvailableOnLive);
    }

    [Fact]
    public async Task CheckAsync_RestoredServerRefusesTheCurrentAdminPassword_ExplainsThePasswordAtT()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 1, pitrMembers: 1);
        // The admin password was rotated after T: the secret holds today's, the restored server still has the old one.
        var rotatedRef = $"pitr-admin-rotated-{slug}";
        await fx.Secrets.SetSecretAsync(rotatedRef, "rotated-after-t", CancellationToken.None);
        var restored = s.Pitr with { AdminSecretRef = rotatedRef };

        var error = await Assert.ThrowsAsync<PreflightFailedException>(
            () => s.Preflight.CheckAsync(new PreflightInput(restored, s.Live, slug), CancellationToken.None));

        var problem = Assert.Single(error.Problems);
        Assert.Contains($"could not log in to the restored server {restored.Name} as {restored.AdminUser} (28P01", problem, StringComparison.Ordinal);
        Assert.Contains($"carries the admin password that was valid at the restore time, not the current one in secret {rotatedRef}", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("rotated-after-t", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckAsync_LiveServerWithoutRoomForTheCopy_FailsBeforeAnythingFillsItsDisk()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        var size = await s.ScalarAsync<long>(s.Pitr, "postgres", "SELECT pg_database_size($1)", tenant.DatabaseName);
        // 10 GB of storage with just enough free for the copy, but not for the copy and the 15 % that must stay free.
        var storage = new ServerStorage(10L << 30, (long)(size * 1.2) + (1L << 30));
        var preflight = new RestorePreflight(s.Connector, fx.Tools, s.Mover, new PreRestoredServerProvisioner(s.Pitr, DateTimeOffset.MinValue, storage));

        var error = await Assert.ThrowsAsync<PreflightFailedException>(
            () => preflight.CheckAsync(new PreflightInput(s.Pitr, s.Live, slug, TransferMode.Streaming), CancellationToken.None));

        var problem = Assert.Single(error.Problems);
        Assert.Contains($"the live server {s.Live.Name} has {storage.FreeBytes} bytes free", problem, StringComparison.Ordinal);
        Assert.Contains("read-only for every tenant", problem, StringComparison.Ordinal);
        var roomy = new RestorePreflight(s.Connector, fx.Tools, s.Mover, new PreRestoredServerProvisioner(s.Pitr, DateTimeOffset.MinValue, new ServerStorage(10L << 30, 9L << 30)));
        var result = await roomy.CheckAsync(new PreflightInput(s.Pitr, s.Live, slug, TransferMode.Streaming), CancellationToken.None);
        Assert.Equal(9L << 30, result.LiveFreeBytes);
    }

    [Fact]
    public async Task CheckAsync_SnapshotBeyondTheCapOfKeptSnapshots_FailsNamingTheCap()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        await Restores.DumpAndLoadAsync(s, slug, target: DerivedDatabaseKind.AsOf);
        s.Mover.MaxSnapshotsPerServer = 1;

        var error = await Assert.ThrowsAsync<PreflightFailedException>(
            () => s.Preflight.CheckAsync(new PreflightInput(s.Pitr, s.Live, slug, TransferMode.Streaming, Snapshot: true), CancellationToken.None));
        var restoreIsFine = await s.Preflight.CheckAsync(new PreflightInput(s.Pitr, s.Live, slug, TransferMode.Streaming), CancellationToken.None);

        Assert.Contains("MaxSnapshotsPerServer", Assert.Single(error.Problems), StringComparison.Ordinal);
        Assert.True(restoreIsFine.DatabaseSizeBytes > 0);
    }

    [Fact]
    public async Task CheckAsync_ScratchTooSmall_FailsNamingTheFolderAndBytes()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        s.Mover.ScratchSafetyFactor = 1e12;

        var error = await Assert.ThrowsAsync<PreflightFailedException>(
            () => s.Preflight.CheckAsync(new PreflightInput(s.Pitr, s.Live, slug), CancellationToken.None));

        var problem = Assert.Single(error.Problems);
        Assert.Contains(s.Mover.ScratchDirectory, problem, StringComparison.Ordinal);
        Assert.Contains("bytes free", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckAsync_Streaming_NeedsNoScratchForTheDataButRefusesLargeObjects()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        s.Mover.ScratchSafetyFactor = 1e12;

        var result = await s.Preflight.CheckAsync(new PreflightInput(s.Pitr, s.Live, slug, TransferMode.Streaming), CancellationToken.None);

        Assert.Equal(RestorePreflight.StreamingScratchBytes, result.ScratchRequiredBytes);
        await s.ExecAsync(s.Pitr, tenant.DatabaseName, "SELECT lo_from_bytea(0, 'scanned claim form'::bytea)");
        var error = await Assert.ThrowsAsync<PreflightFailedException>(
            () => s.Preflight.CheckAsync(new PreflightInput(s.Pitr, s.Live, slug, TransferMode.Streaming), CancellationToken.None));
        var problem = Assert.Single(error.Problems);
        Assert.Contains("1 large objects", problem, StringComparison.Ordinal);
        Assert.Contains("'parallel' or 'runbook'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckAsync_ExtensionNotOnAzureAllowList_FailsNamingIt()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        await s.ExecAsync(s.Pitr, tenant.DatabaseName, "CREATE EXTENSION IF NOT EXISTS pgcrypto");
        await s.ExecAsync(s.Pitr, tenant.DatabaseName, "CREATE EXTENSION IF NOT EXISTS citext");
        // Flexible Server publishes its allow-list as the azure.extensions parameter; emulate it for this role's sessions only.
        var role = $"preflight_{s.Id}";
        await s.ExecAsync(s.Live, "postgres", $"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD 'pw-{s.Id}'");
        await s.ExecAsync(s.Live, "postgres", $"ALTER ROLE {role} SET azure.extensions = 'PGCRYPTO,hstore'");
        await fx.Secrets.SetSecretAsync(role, $"pw-{s.Id}", CancellationToken.None);
        var live = s.Live with { AdminUser = role, AdminSecretRef = role };
        try
        {
            var error = await Assert.ThrowsAsync<PreflightFailedException>(
                () => s.Preflight.CheckAsync(new PreflightInput(s.Pitr, live, slug), CancellationToken.None));

            var problem = Assert.Single(error.Problems);
            Assert.Contains("'citext'", problem, StringComparison.Ordinal);
            Assert.Contains("azure.extensions", problem, StringComparison.Ordinal);
        }
        finally
        {
            await s.ExecAsync(s.Live, "postgres", $"DROP ROLE {role}");
        }
    }

    [Fact]
    public async Task CheckAsync_ToolsOfAnotherMajor_FailsNamingBothVersions()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        var fakeBin = Path.Combine(fx.Root, "fake-bin-" + s.Id);
        Directory.CreateDirectory(fakeBin);
        foreach (var tool in new[] { "pg_dump", "pg_restore" })
        {
            var path = Path.Combine(fakeBin, tool);
            await File.WriteAllTextAsync(path, $"#!/bin/sh\necho '{tool} (PostgreSQL) 99.1'\n", TestContext.Current.CancellationToken);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var preflight = new RestorePreflight(s.Connector, new PgToolLocator(new PgToolOptions { BinDirectory = fakeBin }, fx.Processes), s.Mover);

        var error = await Assert.ThrowsAsync<PreflightFailedException>(
            () => preflight.CheckAsync(new PreflightInput(s.Pitr, s.Live, slug), CancellationToken.None));

        Assert.Equal(2, error.Problems.Count);
        Assert.All(error.Problems, p => Assert.Contains($"PostgreSQL 99 but the server is PostgreSQL {fx.Live.MajorVersion}", p, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CheckAsync_TenantDatabaseMissingOnSource_FailsClearly()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3);

        var error = await Assert.ThrowsAsync<PreflightFailedException>(
            () => s.Preflight.CheckAsync(new PreflightInput(s.Pitr, s.Live, slug), CancellationToken.None));

        Assert.Contains($"{tenantDatabase(slug)} does not exist on server {s.Pitr.Name}", Assert.Single(error.Problems), StringComparison.Ordinal);

        static string tenantDatabase(string slug) => "tenant_" + slug.Replace('-', '_');
    }
}
