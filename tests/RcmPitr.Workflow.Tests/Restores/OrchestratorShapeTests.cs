using System.Runtime.CompilerServices;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Tests.Restores;

/// <summary>
/// The steps each orchestrator version takes, pinned. An engine replays a run's recorded history against the code it is
/// given; a deploy that changes the steps of an orchestrator with runs in flight makes those runs diverge (they stop, with
/// an operator action, instead of finishing). So a change of steps is never silent: it fails here, and the developer either
/// gives the orchestrator a new name — keeping the old one registered until its runs drain (ADR 0008) — or, for a change
/// in-flight runs can still replay, records the new shape (<c>RCMPITR_RECORD_SHAPES=1 dotnet test</c>).
/// </summary>
public sealed class OrchestratorShapeTests
{
    public static TheoryData<string> Scenarios() => new(ShapeScenarios.Names);

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Steps_OfEachRecordedScenario_AreThoseOfThisVersion(string scenario)
    {
        var (orchestrator, steps) = await ShapeScenarios.RunAsync(scenario);
        var file = $"{orchestrator}.{scenario}.txt";
        var shape = string.Join('\n', steps) + "\n";

        if (Environment.GetEnvironmentVariable("RCMPITR_RECORD_SHAPES") == "1")
        {
            await File.WriteAllTextAsync(Path.Combine(SourceFolder(), file), shape, TestContext.Current.CancellationToken);
            return;
        }

        var recorded = Path.Combine(AppContext.BaseDirectory, "Restores", "Shapes", file);
        Assert.True(File.Exists(recorded), $"No recorded shape {file}: a new orchestrator name or scenario needs one (RCMPITR_RECORD_SHAPES=1 dotnet test).");
        Assert.True(
            shape == await File.ReadAllTextAsync(recorded, TestContext.Current.CancellationToken),
            $"{orchestrator} takes other steps than recorded in {file}. Runs in flight on the previous code would diverge: give the orchestrator a new " +
            "name and keep the old one registered until its runs drain (ADR 0008); or, if in-flight runs can still replay the change, record it " +
            "(RCMPITR_RECORD_SHAPES=1 dotnet test).");
    }

    [Fact]
    public void Scenarios_CoverEveryOrchestrator()
    {
        var orchestrators = typeof(RestoreTenantOrchestrator).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Orchestrator", StringComparison.Ordinal) && t.GetField("Name") is not null)
            .Select(t => (string)t.GetField("Name")!.GetValue(null)!)
            .Order()
            .ToList();

        Assert.Equal(orchestrators, ShapeScenarios.Orchestrators.Order().ToList());
    }

    private static string SourceFolder([CallerFilePath] string path = "") => Path.Combine(Path.GetDirectoryName(path)!, "Shapes");
}
