using System.Diagnostics;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Connections;

public sealed class PgToolEnvironmentTests(ClusterFixture fx)
{
    [Fact]
    public async Task DumpAsync_PassFileLeftByAnExitedProcess_IsSweptAndOneOfARunningProcessIsKept()
    {
        var folder = Path.Combine(fx.Root, "pgpass-" + Guid.NewGuid().ToString("N")[..8]);
        await using var s = await Scenario.StartAsync(fx, connection: new PgConnectionOptions { PasswordFileDirectory = folder });
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        PrivateDirectory.Ensure(folder, "test folder");
        using (var crashed = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!)
        {
            await crashed.WaitForExitAsync(TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(folder, $".pgpass-{crashed.Id}-{Guid.NewGuid():N}"), "127.0.0.1:5432:*:admin:left-behind\n", TestContext.Current.CancellationToken);
        }

        var inUse = Path.Combine(folder, $".pgpass-{Environment.ProcessId}-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(inUse, "127.0.0.1:5432:*:admin:in-use\n", TestContext.Current.CancellationToken);

        await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);

        Assert.Equal([inUse], Directory.GetFiles(folder));
    }

    [Fact]
    public async Task CreateAsync_PasswordFolderWritableByOthers_IsRefusedAndNothingIsWritten()
    {
        fx.RequirePostgres();
        var folder = Path.Combine(fx.Root, "pgpass-open-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111);
        var connector = new PgConnector(fx.Secrets, new PgConnectionOptions { PasswordFileDirectory = folder });

        var error = await Assert.ThrowsAsync<UnsafeDirectoryException>(() => PgToolEnvironment.CreateAsync(connector, fx.PitrServer, CancellationToken.None));

        Assert.Contains(folder, error.Message, StringComparison.Ordinal);
        Assert.Contains("0777", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
    }

    [Fact]
    public async Task CreateAsync_PasswordFolderIsASymlink_IsRefused()
    {
        fx.RequirePostgres();
        var real = Path.Combine(fx.Root, "pgpass-real-" + Guid.NewGuid().ToString("N")[..8]);
        PrivateDirectory.Ensure(real, "test folder");
        var link = real + "-link";
        Directory.CreateSymbolicLink(link, real);
        var connector = new PgConnector(fx.Secrets, new PgConnectionOptions { PasswordFileDirectory = link });

        var error = await Assert.ThrowsAsync<UnsafeDirectoryException>(() => PgToolEnvironment.CreateAsync(connector, fx.PitrServer, CancellationToken.None));

        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(real));
    }

    [Fact]
    public async Task CreateAsync_AzureScratchOnASharedMount_PassFileIsPrivateLocalAndNotUnderScratch()
    {
        fx.RequirePostgres();
        // The Azure app settings: dumps on the SMB share, password folder left to its default.
        var mover = new DataMoverOptions { ScratchDirectory = Path.Combine(fx.Root, "mnt-scratch", "rcm-pitr"), ScratchIsSharedMount = true };
        var connector = new PgConnector(fx.Secrets, new PgConnectionOptions());

        using var environment = await PgToolEnvironment.CreateAsync(connector, fx.PitrServer, CancellationToken.None);

        var passFile = environment.Variables["PGPASSFILE"];
        Assert.False(Path.GetFullPath(passFile).StartsWith(Path.GetFullPath(mover.ScratchDirectory), StringComparison.Ordinal));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passFile));
        Assert.Equal(PrivateDirectory.Mode, File.GetUnixFileMode(Path.GetDirectoryName(passFile)!));
        MountTable.RefuseNetworkFolder(Path.GetDirectoryName(passFile)!, "the password file folder");
    }

    [Theory]
    [InlineData("pg-live.postgres.database.azure.com", "verify-full")]
    [InlineData("10.1.2.3", "verify-full")]
    [InlineData("127.0.0.1", "prefer")]
    [InlineData("::1", "prefer")]
    [InlineData("localhost", "prefer")]
    public async Task CreateAsync_DefaultOptions_VerifyTheServerUnlessItIsOnThisMachine(string host, string expected)
    {
        fx.RequirePostgres();
        var connector = new PgConnector(fx.Secrets, new PgConnectionOptions());

        using var environment = await PgToolEnvironment.CreateAsync(connector, fx.PitrServer with { Fqdn = host }, CancellationToken.None);

        Assert.Equal(expected, environment.Variables["PGSSLMODE"]);
        Assert.Equal(host is "127.0.0.1" or "::1" or "localhost" ? SslMode.Prefer : SslMode.VerifyFull, new PgConnectionOptions().SslModeFor(host));
    }
}
