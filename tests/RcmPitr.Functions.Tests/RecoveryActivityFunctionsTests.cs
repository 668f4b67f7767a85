using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using RcmPitr.Functions.Activities;
using RcmPitr.Functions.Orchestrations;
using RcmPitr.Workflow.Recoveries;

namespace RcmPitr.Functions.Tests;

public sealed class RecoveryActivityFunctionsTests
{
    [Fact]
    public void Triggers_EveryRecoveryActivityName_HasExactlyOneActivityTrigger()
    {
        var names = typeof(RecoveryActivityNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal);

        var triggers = typeof(RecoveryActivityFunctions).GetMethods()
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name)
            .OfType<string>()
            .Order(StringComparer.Ordinal);

        Assert.Equal(names, triggers);
    }

    [Fact]
    public void Orchestrators_RecoverServer_HasAnOrchestrationTrigger()
    {
        var method = typeof(OrchestratorFunctions).GetMethods().Single(m => m.GetCustomAttribute<FunctionAttribute>()?.Name == RecoverServerOrchestrator.Name);

        Assert.NotNull(method.GetParameters()[0].GetCustomAttribute<OrchestrationTriggerAttribute>());
    }
}
