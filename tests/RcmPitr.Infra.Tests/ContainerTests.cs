using System.Text.RegularExpressions;

namespace RcmPitr.Infra.Tests;

/// <summary>The container build: pinned base images and a build context without local or secret files.</summary>
public sealed partial class ContainerTests
{
    [Fact]
    public void Dockerfile_BaseImages_ArePinnedToAVersionTag()
    {
        var lines = File.ReadAllLines(Path.Combine(Bicep.RepositoryRoot, "infra", "Dockerfile"));

        var images = lines.Select(line => FromLine().Match(line)).Where(m => m.Success).Select(m => m.Groups["image"].Value).ToList();

        Assert.Equal(2, images.Count);
        // A tag that starts with a full version (major.minor.patch), e.g. sdk:10.0.100; never "10.0", "4-…" or none.
        Assert.All(images, image => Assert.Matches(PinnedTag(), image));
    }

    [Fact]
    public void DockerIgnore_KeepsRepositoryBuildOutputsAndLocalSettingsOutOfTheContext()
    {
        var path = Path.Combine(Bicep.RepositoryRoot, ".dockerignore");
        Assert.True(File.Exists(path), ".dockerignore is missing: the whole checkout would be sent to the build");

        var patterns = File.ReadAllLines(path).Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#')).ToHashSet(StringComparer.Ordinal);

        Assert.Superset(new HashSet<string>(StringComparer.Ordinal) { ".git", "**/bin", "**/obj", "artifacts", ".tools", "**/local.settings.json" }, patterns);
        Assert.DoesNotContain("src", patterns);
    }

    [GeneratedRegex(@"^FROM\s+(--platform=\S+\s+)?(?<image>\S+)", RegexOptions.IgnoreCase)]
    private static partial Regex FromLine();

    [GeneratedRegex(@"^[^:@\s]+:\d+\.\d+\.\d+[^\s]*$")]
    private static partial Regex PinnedTag();
}
