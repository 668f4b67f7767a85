using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Functions.Activities;
using RcmPitr.Functions.Composition;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Tests;

/// <summary>The activity triggers: one per activity name, and the app's object graph behind them.</summary>
public sealed class ActivityFunctionsTests
{
    [Fact]
    public void Triggers_EveryActivityName_HasExactlyOneActivityTrigger()
    {
        var names = typeof(ActivityNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal);

        var triggers = typeof(ActivityFunctions).GetMethods()
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name)
            .OfType<string>()
            .Order(StringComparer.Ordinal);

        Assert.Equal(names, triggers);
    }

    [Theory]
    [InlineData(ActivityNames.AcquireServer, typeof(AcquireServerInput), typeof(AcquireServerResult))]
    [InlineData(ActivityNames.ReleaseServer, typeof(ReleaseServerInput), typeof(ReleaseServerResult))]
    public void Triggers_RestoredServerHolds_TakeAndReturnTheirContracts(string name, Type input, Type result)
    {
        var method = typeof(ActivityFunctions).GetMethods().Single(m => m.GetCustomAttribute<FunctionAttribute>()?.Name == name);

        var trigger = method.GetParameters()[0];

        Assert.Equal(input, trigger.ParameterType);
        Assert.NotNull(trigger.GetCustomAttribute<ActivityTriggerAttribute>());
        Assert.Equal(typeof(Task<>).MakeGenericType(result), method.ReturnType);
    }

    [Fact]
    public async Task Composition_ActivityFunctions_ResolveWithTheRestoredServers()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["KeyVault:Uri"] = "https://rcm-pitr-test.vault.azure.net/",
            ["WEBSITE_AUTH_ENABLED"] = "True",
            ["AzureArm:SubscriptionId"] = "00000000-0000-0000-0000-000000000001",
            ["AzureArm:ResourceGroup"] = "rcm-prod",
            ["AzureArm:Location"] = "eastus",
            ["ControlPlane:Host"] = "127.0.0.1",
            ["ControlPlane:Database"] = "rcm_master",
            ["ControlPlane:Username"] = "rcm_pitr",
            ["ControlPlane:PasswordSecretRef"] = "rcm-master-password",
        }).Build();
        await using var services = new ServiceCollection().AddLogging().AddRcmPitrFunctions(configuration).BuildServiceProvider();

        // The worker builds function classes from the container, as ActivatorUtilities does.
        var functions = ActivatorUtilities.CreateInstance<ActivityFunctions>(services);

        Assert.NotNull(functions);
        Assert.NotNull(services.GetRequiredService<RestoredServers>());
        Assert.IsType<RcmPitr.Activities.Notifications.OutboxNotifier>(services.GetRequiredService<RcmPitr.Activities.INotifier>());
        Assert.Contains(services.GetServices<Microsoft.Extensions.Hosting.IHostedService>(), s => s is RcmPitr.Activities.Notifications.NotificationDispatchService);
    }
}
