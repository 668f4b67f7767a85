using RcmPitr.Postgres.Clusters;

namespace RcmPitr.Local.Tests;

public sealed class LocalHomeChecksTests
{
    [Theory]
    [InlineData("we\"ird", "a double quote")]
    [InlineData("we$HOME", "a dollar sign")]
    [InlineData("we`id`", "a backtick")]
    [InlineData("it's", "a single quote")]
    [InlineData("100%", "a percent sign")]
    [InlineData("new\nline", "a newline")]
    public async Task Up_HomePathWithAShellCharacter_IsRefusedNamingItBeforeAnythingIsCreated(string name, string refused)
    {
        await using var home = await LocalHome.CreateAsync(name);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => home.Environment.UpAsync(TextWriter.Null, CancellationToken.None));

        Assert.Contains(refused, error.Message, StringComparison.Ordinal);
        Assert.Contains("archive_command", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(home.Path));
    }

    [Fact]
    public async Task Up_HomeUnderAFolderThePostgresUserCannotEnter_IsRefusedNamingTheFolderAndTheFix()
    {
        if (!LocalCluster.RunsAsServiceAccount)
        {
            Assert.Skip("the servers run as the postgres user only when the tests run as root");
        }

        await using var home = await LocalHome.CreateAsync("private/home");
        var closed = Path.GetDirectoryName(home.Path)!;
        Directory.CreateDirectory(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => home.Environment.UpAsync(TextWriter.Null, CancellationToken.None));

        Assert.Contains($"cannot enter {closed} ", error.Message, StringComparison.Ordinal);
        Assert.Contains("mode 0700", error.Message, StringComparison.Ordinal);
        Assert.Contains($"chmod o+x {closed}", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(closed));
    }
}
