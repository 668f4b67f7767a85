using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RcmPitr.Infra.Tests;

/// <summary>Safety properties of <c>infra/main.bicep</c>, read from the ARM JSON it compiles to.</summary>
public sealed partial class MainTemplateTests
{
    private const string Main = "infra/main.bicep";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private const string ClientId = "11111111-2222-3333-4444-555555555555";

    private static readonly ArmScope Scope = new(new Dictionary<string, string>
    {
        ["namePrefix"] = "rcmprod",
        ["authClientId"] = ClientId,
    });

    [Fact]
    public async Task Site_AuthSettings_RequireAnEntraTokenForTheAppRegistrationAndAnswer401()
    {
        var template = await Bicep.CompileAsync(Main);
        var site = ArmTemplate.Single(template, "Microsoft.Web/sites");
        var auth = Assert.Single(ArmTemplate.OfType(template, "Microsoft.Web/sites/config"),
            config => ArmExpression.EvaluateString(template, Scope, (string)config["name"]!).EndsWith("/authsettingsV2", StringComparison.Ordinal));

        var siteName = ArmExpression.EvaluateString(template, Scope, (string)site["name"]!);
        Assert.Equal($"{siteName}/authsettingsV2", ArmExpression.EvaluateString(template, Scope, (string)auth["name"]!));
        Assert.True((bool?)site["properties"]?["httpsOnly"]);
        var settings = auth["properties"]!;
        Assert.True((bool?)settings["platform"]?["enabled"]);
        Assert.True((bool?)settings["globalValidation"]?["requireAuthentication"]);
        Assert.Equal("Return401", (string?)settings["globalValidation"]?["unauthenticatedClientAction"]);
        var entra = settings["identityProviders"]?["azureActiveDirectory"]!;
        Assert.True((bool?)entra["enabled"]);
        Assert.Equal(ClientId, ArmExpression.EvaluateString(template, Scope, (string)entra["registration"]!["clientId"]!));
        Assert.Equal($"https://login.microsoftonline.com/{Scope.TenantId}/v2.0",
            ArmExpression.EvaluateString(template, Scope, (string)entra["registration"]!["openIdIssuer"]!));
        var audiences = ((JsonArray)entra["validation"]!["allowedAudiences"]!).Select(a => ArmExpression.EvaluateString(template, Scope, (string)a!)).ToList();
        Assert.Contains($"api://{ClientId}", audiences);
        Assert.All(audiences, audience => Assert.Contains(ClientId, audience, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Site_OnElasticPremium_DoesNotSetAlwaysOn()
    {
        var template = await Bicep.CompileAsync(Main);
        var plan = ArmTemplate.Single(template, "Microsoft.Web/serverfarms");
        var site = ArmTemplate.Single(template, "Microsoft.Web/sites");

        Assert.Equal("ElasticPremium", (string?)plan["sku"]?["tier"]);
        Assert.Null(site["properties"]?["siteConfig"]?["alwaysOn"]);
    }

    [Fact]
    public async Task Insights_WithEntraOnlyIngestion_GrantsMonitoringMetricsPublisherToTheAppIdentity()
    {
        var template = await Bicep.CompileAsync(Main);
        var insights = ArmTemplate.Single(template, "Microsoft.Insights/components");
        var site = ArmTemplate.Single(template, "Microsoft.Web/sites");
        var settings = (JsonArray)site["properties"]!["siteConfig"]!["appSettings"]!;
        Assert.True((bool?)insights["properties"]?["DisableLocalAuth"]);
        Assert.Contains(settings, s => (string?)s!["name"] == "APPLICATIONINSIGHTS_AUTHENTICATION_STRING" && ((string?)s["value"])!.Contains("Authorization=AAD", StringComparison.Ordinal));

        var grants = ArmTemplate.OfType(template, "Microsoft.Authorization/roleAssignments")
            .Where(r => ((string?)r["properties"]?["roleDefinitionId"])!.Contains(MonitoringMetricsPublisher, StringComparison.Ordinal))
            .ToList();

        var grant = Assert.Single(grants);
        Assert.Contains("Microsoft.Insights/components", (string?)grant["scope"], StringComparison.Ordinal);
        Assert.Contains("userAssignedIdentities", (string?)grant["properties"]?["principalId"], StringComparison.Ordinal);
        Assert.Equal("ServicePrincipal", (string?)grant["properties"]?["principalType"]);
    }

    [Fact]
    public async Task Site_PullsItsImage_OnlyAfterAcrPullIsGranted()
    {
        var template = await Bicep.CompileAsync(Main);
        var site = ArmTemplate.Single(template, "Microsoft.Web/sites");
        var registryAccess = ArmTemplate.Module(template, "rcm-pitr-acr-pull");
        var module = registryAccess["properties"]!["template"]!.AsObject();

        Assert.True((bool?)site["properties"]?["siteConfig"]?["acrUseManagedIdentityCreds"]);
        Assert.Contains(ArmTemplate.OfType(module, "Microsoft.Authorization/roleAssignments"),
            r => ((string?)r["properties"]?["roleDefinitionId"])!.Contains(AcrPull, StringComparison.Ordinal));
        Assert.Contains(ArmTemplate.DependsOn(site),
            d => d.Contains("'Microsoft.Resources/deployments'", StringComparison.Ordinal) && d.Contains("'rcm-pitr-acr-pull'", StringComparison.Ordinal));
    }

    // The shortest and longest prefixes the template allows (checked below), starting with a digit or a letter.
    public static TheoryData<string> Prefixes() => ["1ab", "abc", "12345678901", "a2345678901", "0rcm", "rcmprod"];

    [Theory]
    [MemberData(nameof(Prefixes))]
    public async Task Names_ForAnAllowedPrefix_AreValidKeyVaultAndStorageNames(string prefix)
    {
        var template = await Bicep.CompileAsync(Main);
        var declared = template["parameters"]!["namePrefix"]!;
        Assert.InRange(prefix.Length, (int)declared["minLength"]!, (int)declared["maxLength"]!);
        var scope = Scope with { Parameters = new Dictionary<string, string>(Scope.Parameters) { ["namePrefix"] = prefix } };

        var vault = ArmExpression.EvaluateString(template, scope, (string)ArmTemplate.Single(template, "Microsoft.KeyVault/vaults")["name"]!);
        var storage = ArmExpression.EvaluateString(template, scope, (string)ArmTemplate.Single(template, "Microsoft.Storage/storageAccounts")["name"]!);

        // Key Vault: 3-24 characters, letters, digits and hyphens, starting with a letter, ending with a letter or
        // digit, no consecutive hyphens. Storage: 3-24 lowercase letters and digits.
        Assert.Matches(KeyVaultName(), vault);
        Assert.DoesNotContain("--", vault, StringComparison.Ordinal);
        Assert.Matches(StorageName(), storage);
    }

    [GeneratedRegex("^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")]
    private static partial Regex KeyVaultName();

    [GeneratedRegex("^[a-z0-9]{3,24}$")]
    private static partial Regex StorageName();
}
