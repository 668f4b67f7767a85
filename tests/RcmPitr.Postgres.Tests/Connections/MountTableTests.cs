using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Connections;

/// <summary>Password files stay off network shares such as the Azure Files scratch share (SMB, modes forced by the mount).</summary>
public sealed class MountTableTests(ClusterFixture fx)
{
    // The shape of an App Service Linux container's mount table with the scratch share mounted over SMB.
    private const string AzureMounts =
        "22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n" +
        "30 22 0:25 / /dev/shm rw,nosuid,nodev - tmpfs shm rw,size=65536k\n" +
        "41 22 0:40 / /mnt/scratch rw,relatime shared:5 - cifs //acct.file.core.windows.net/scratch rw,vers=3.1.1,file_mode=0777,dir_mode=0777\n";

    [Theory]
    [InlineData("/mnt/scratch", "cifs")]
    [InlineData("/mnt/scratch/rcm-pitr/pgpass", "cifs")]
    [InlineData("/mnt/scratchy", "overlay")]
    [InlineData("/dev/shm/rcm-pitr-0", "tmpfs")]
    [InlineData("/tmp/rcm-pitr-0", "overlay")]
    public void FileSystemOf_PathInTheAzureContainer_IsTheFileSystemOfItsLongestMountPoint(string path, string expected)
    {
        Assert.Equal(expected, MountTable.FileSystemOf(path, AzureMounts));
    }

    [Fact]
    public void FileSystemOf_MountPointWithASpaceAndAMountOverIt_IsUnescapedAndTheLaterMountWins()
    {
        var mounts = AzureMounts +
            "50 22 0:41 / /mnt/my\\040share rw - nfs4 host:/export rw\n" +
            "51 50 0:42 / /mnt/my\\040share rw - tmpfs none rw\n";

        Assert.Equal("tmpfs", MountTable.FileSystemOf("/mnt/my share/x", mounts));
    }

    [Fact]
    public void RefuseNetworkFolder_PrivateFolderOnAnSmbMount_IsRefusedNamingTheMount()
    {
        var folder = Path.Combine(fx.Root, "on-share-" + Guid.NewGuid().ToString("N")[..8]);
        PrivateDirectory.Ensure(folder, "test folder");
        var mounts = AzureMounts + $"60 22 0:43 / {folder} rw - cifs //acct/share rw,file_mode=0777\n";

        var error = Assert.Throws<UnsafeDirectoryException>(() => MountTable.RefuseNetworkFolder(folder, "the password file folder", mounts));

        Assert.Contains(folder, error.Message, StringComparison.Ordinal);
        Assert.Contains("cifs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefuseNetworkFolder_LinkedIntoAShare_IsJudgedByTheShare()
    {
        var share = Path.Combine(fx.Root, "share-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(share);
        var link = share + "-link";
        Directory.CreateSymbolicLink(link, share);
        var mounts = AzureMounts + $"61 22 0:44 / {share} rw - fuse.blobfuse2 blobfuse2 rw\n";

        var error = Assert.Throws<UnsafeDirectoryException>(() => MountTable.RefuseNetworkFolder(Path.Combine(link, "pgpass"), "the password file folder", mounts));

        Assert.Contains("fuse.blobfuse2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefuseNetworkFolder_DefaultPasswordFolderOnThisMachine_IsAccepted()
    {
        var folder = new PgConnectionOptions().ResolvePasswordFileDirectory();
        PrivateDirectory.Ensure(folder, "test folder");

        MountTable.RefuseNetworkFolder(folder, "the password file folder");
    }
}
