namespace RcmPitr.Infra.Tests;

/// <summary>Every template compiles and lints clean: a warning is an error, as for the C# build.</summary>
public sealed class TemplateTests
{
    public static TheoryData<string> Templates() => [.. Bicep.Templates()];

    [Fact]
    public void Templates_InfraAndModules_AreAllFound()
    {
        var templates = Bicep.Templates();

        Assert.Contains(Path.Combine("infra", "main.bicep"), templates);
        Assert.Contains(templates, template => template.StartsWith(Path.Combine("infra", "modules"), StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public async Task Build_Template_CompilesWithoutDiagnostics(string template)
    {
        var run = await Bicep.BuildAsync(template);

        Assert.True(run.ExitCode == 0, $"bicep build {template}: rc {run.ExitCode}\n{run.Errors}");
        Assert.True(run.Errors.Length == 0, $"bicep build {template} reported:\n{run.Errors}");
        Assert.StartsWith("{", run.Output.TrimStart(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public async Task Lint_Template_ReportsNothing(string template)
    {
        var run = await Bicep.RunAsync("lint", template);

        Assert.True(run.ExitCode == 0, $"bicep lint {template}: rc {run.ExitCode}\n{run.Output}{run.Errors}");
        Assert.True(run.Output.Length + run.Errors.Length == 0, $"bicep lint {template} reported:\n{run.Output}{run.Errors}");
    }
}
