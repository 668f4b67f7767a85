using System.Text.Json;
using System.Text.Json.Serialization;

namespace RcmPitr.Engine.History;

/// <summary>The one JSON configuration for history, inputs, outputs and status: camelCase, enums as strings.</summary>
public static class EngineJson
{
    /// <summary>The options.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Serializes a value to a detached JSON element.</summary>
    public static JsonElement ToElement(object? value) => JsonSerializer.SerializeToElement(value, Options);

    /// <summary>Deserializes an element (null → default).</summary>
    public static T? FromElement<T>(JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } e ? e.Deserialize<T>(Options) : default;

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
