using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Operations;

/// <summary>Dumps carry PHI: the scratch root must be private to this process's user before anything is written under it.</summary>
public sealed class ScratchRootTests(ClusterFixture fx)
{
    [Fact]
    public void ScratchDirectory_Default_IsNoFixedNameUnderTheSharedTempFolder()
    {
        var scratch = new DataMoverOptions().ScratchDirectory;

        Assert.NotEqual(Path.Combine(Path.GetTempPath(), "rcm-pitr-scratch"), scratch);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        if (!string.IsNullOrEmpty(home))
        {
            Assert.StartsWith(home, scratch, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DumpAsync_ScratchRootWritableByOthers_IsRefusedBeforeAnythingIsWritten()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        Directory.CreateDirectory(s.Mover.ScratchDirectory);
        File.SetUnixFileMode(s.Mover.ScratchDirectory, (UnixFileMode)0b111_111_111);

        var error = await Assert.ThrowsAsync<UnsafeDirectoryException>(
            () => s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None));

        Assert.Contains(s.Mover.ScratchDirectory, error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(s.Mover.ScratchDirectory));
    }

    [Fact]
    public async Task DumpAsync_ScratchRootIsASymlink_IsRefused()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        var elsewhere = s.Mover.ScratchDirectory + "-elsewhere";
        Directory.CreateDirectory(elsewhere, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateSymbolicLink(s.Mover.ScratchDirectory, elsewhere);

        var error = await Assert.ThrowsAsync<UnsafeDirectoryException>(
            () => s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None));

        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));
        File.Delete(s.Mover.ScratchDirectory);
        Directory.Delete(elsewhere);
    }

    [Fact]
    public async Task MoveAsync_ScratchRootOwnedByAnotherUser_IsRefused()
    {
        if (!LocalCluster.RunsAsServiceAccount)
        {
            Assert.Skip("needs root, to give the folder to another user");
        }

        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        Directory.CreateDirectory(s.Mover.ScratchDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await LocalCluster.GiveToServiceAccountAsync(new ProcessRunner(), s.Mover.ScratchDirectory, CancellationToken.None);

        var error = await Assert.ThrowsAsync<UnsafeDirectoryException>(
            () => s.Transfer.MoveAsync(new MoveTenantInput(s.RunId, s.Pitr, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.Restore, TransferMode.Streaming), CancellationToken.None));

        Assert.Contains("belongs to uid", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(s.Mover.ScratchDirectory));
    }
}
