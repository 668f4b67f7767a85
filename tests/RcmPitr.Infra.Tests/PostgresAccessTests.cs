using System.Text.Json.Nodes;

namespace RcmPitr.Infra.Tests;

/// <summary>The custom role of <c>infra/modules/postgres-access.bicep</c>, read from the ARM JSON it compiles to.</summary>
public sealed class PostgresAccessTests
{
    private const string Module = "infra/modules/postgres-access.bicep";

    private static readonly ArmScope Scope = new(new Dictionary<string, string> { ["principalId"] = "00000000-0000-0000-0000-0000000000b1" });

    [Fact]
    public async Task Role_SameResourceGroupNameInTwoSubscriptions_GetsDistinctNamesAndIds()
    {
        var template = await Bicep.CompileAsync(Module);
        var role = ArmTemplate.Single(template, "Microsoft.Authorization/roleDefinitions");
        var other = Scope with { SubscriptionId = "00000000-0000-0000-0000-000000000002" };

        // roleName is unique per tenant: one RcmPitr per subscription and resource group must not collide.
        var first = ArmExpression.EvaluateString(template, Scope, (string)role["properties"]!["roleName"]!);
        var second = ArmExpression.EvaluateString(template, other, (string)role["properties"]!["roleName"]!);

        Assert.NotEqual(first, second);
        Assert.NotEqual(ArmExpression.EvaluateString(template, Scope, (string)role["name"]!), ArmExpression.EvaluateString(template, other, (string)role["name"]!));
    }

    [Fact]
    public async Task Role_Actions_CoverRestoresIntoAVirtualNetworkAPrivateDnsZoneACustomerManagedKeyAndGeoFirewallRules()
    {
        var template = await Bicep.CompileAsync(Module);
        var role = ArmTemplate.Single(template, "Microsoft.Authorization/roleDefinitions");

        var actions = ((JsonArray)role["properties"]!["permissions"]![0]!["actions"]!).Select(a => (string)a!).ToList();

        Assert.Contains("Microsoft.DBforPostgreSQL/flexibleServers/write", actions);
        Assert.Contains("Microsoft.Network/virtualNetworks/subnets/join/action", actions);
        Assert.Contains("Microsoft.Network/privateDnsZones/join/action", actions);
        Assert.Contains("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", actions);
        Assert.Contains("Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/write", actions);
        Assert.DoesNotContain(actions, a => a.Contains('*', StringComparison.Ordinal));
    }
}
