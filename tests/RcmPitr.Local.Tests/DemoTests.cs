using RcmPitr.Cli.Demo;

namespace RcmPitr.Local.Tests;

/// <summary>The README's main job, end to end (with the runbook's waits shortened).</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task Demo_OnAFreshHome_PassesEveryCheck()
    {
        await using var home = await LocalHome.CreateAsync();
        var output = new StringWriter();
        var error = new StringWriter();
        var demo = new DemoRunner(output, error)
        {
            HostOverrides = new Dictionary<string, string?> { ["RcmPitr:Restore:StatusCacheTtl"] = "00:00:01" },
        };

        var exit = await demo.RunAsync(home.Path, keep: false, TestContext.Current.CancellationToken);

        Assert.True(exit == 0, output + "\n" + error);
        Assert.Contains("11 checks passed, 0 failed", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", output.ToString(), StringComparison.Ordinal);
    }
}
