using System.Text.Json;
using System.Text.Json.Serialization;

namespace RcmPitr.Api;

/// <summary>How the API reads run inputs and statuses: case-insensitive names, enums as strings or numbers.</summary>
public static class ApiJson
{
    /// <summary>The options.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>
    /// How request bodies are read: web defaults, and a field the request does not have is an error rather than
    /// ignored (<see cref="ApiRequestBody"/> names it first).
    /// </summary>
    public static JsonSerializerOptions RequestOptions { get; } = CreateForRequests();

    /// <summary>Deserializes an element (null → default).</summary>
    public static T? Read<T>(JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } e ? e.Deserialize<T>(Options) : default;

    private static JsonSerializerOptions CreateForRequests()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
