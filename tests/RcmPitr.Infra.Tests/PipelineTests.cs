using System.Text.RegularExpressions;

namespace RcmPitr.Infra.Tests;

/// <summary>The pipeline builds and tests exactly as the README's test command does, and nothing else.</summary>
public sealed partial class PipelineTests
{
    [Fact]
    public void Pipeline_BuildAndTest_RunsOnlyTheReadmeTestCommand()
    {
        var pipeline = File.ReadAllText(Path.Combine(Bicep.RepositoryRoot, "azure-pipelines.yml"));
        var readme = File.ReadAllText(Path.Combine(Bicep.RepositoryRoot, "README.md"));

        var scripts = ScriptStep().Matches(pipeline).Select(m => m.Groups["command"].Value.Trim()).ToList();

        Assert.Contains("./scripts/test.sh", readme, StringComparison.Ordinal);
        Assert.Equal(["./scripts/test.sh"], scripts);
        Assert.DoesNotMatch(OtherBuild(), pipeline);
    }

    [GeneratedRegex(@"^\s*-\s*script:\s*(?<command>.+)$", RegexOptions.Multiline)]
    private static partial Regex ScriptStep();

    [GeneratedRegex(@"dotnet\s+(build|test|publish)|DotNetCoreCLI|VSBuild|MSBuild@", RegexOptions.IgnoreCase)]
    private static partial Regex OtherBuild();
}
