using System.Text.Json;
using System.Text.Json.Serialization;

namespace RcmPitr.Local;

/// <summary>What <c>local up</c> created, saved in <see cref="LocalLayout.StateFile"/>.</summary>
public sealed record LocalState(
    string LiveServerName,
    int LivePort,
    string AdminUser,
    string AdminSecretRef,
    int MajorVersion,
    string BinDirectory,
    string MasterDatabase,
    string StateDatabase,
    int ApiPort,
    IReadOnlyList<string> Principals,
    DateTimeOffset CreatedAt)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The API base URL of the local host.</summary>
    public string ApiUrl => $"http://127.0.0.1:{ApiPort}";

    /// <summary>Reads the state, or null when the environment was never set up.</summary>
    public static LocalState? Read(LocalLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        return File.Exists(layout.StateFile) ? JsonSerializer.Deserialize<LocalState>(File.ReadAllText(layout.StateFile), Json) : null;
    }

    /// <summary>Writes the state.</summary>
    public void Write(LocalLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        File.WriteAllText(layout.StateFile, JsonSerializer.Serialize(this, Json));
    }

    /// <summary>Serializes any object the way the environment's files are written.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json);

    /// <summary>Deserializes a file written by <see cref="Serialize{T}"/>.</summary>
    public static T Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Json)!;
}
