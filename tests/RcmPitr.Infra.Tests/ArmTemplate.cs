using System.Text.Json.Nodes;

namespace RcmPitr.Infra.Tests;

/// <summary>Reading the resources of a compiled ARM template.</summary>
internal static class ArmTemplate
{
    /// <summary>The template's resources (an array, or an object keyed by symbolic name).</summary>
    public static IReadOnlyList<JsonObject> Resources(JsonObject template) => template["resources"] switch
    {
        JsonArray array => [.. array.Select(item => item!.AsObject())],
        JsonObject symbolic => [.. symbolic.Select(pair => pair.Value!.AsObject())],
        _ => [],
    };

    /// <summary>The resources of <paramref name="type"/>.</summary>
    public static IReadOnlyList<JsonObject> OfType(JsonObject template, string type) =>
        [.. Resources(template).Where(resource => string.Equals((string?)resource["type"], type, StringComparison.OrdinalIgnoreCase))];

    /// <summary>The one resource of <paramref name="type"/>.</summary>
    public static JsonObject Single(JsonObject template, string type) => Assert.Single(OfType(template, type));

    /// <summary>The nested deployment (module) named <paramref name="name"/>.</summary>
    public static JsonObject Module(JsonObject template, string name) =>
        Assert.Single(OfType(template, "Microsoft.Resources/deployments"), module => (string?)module["name"] == name);

    /// <summary>The <c>dependsOn</c> entries of <paramref name="resource"/>.</summary>
    public static IReadOnlyList<string> DependsOn(JsonObject resource) =>
        resource["dependsOn"] is JsonArray items ? [.. items.Select(item => (string)item!)] : [];
}
