using System.Text.Json;
using System.Text.Json.Serialization;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Scenarios.Tests.Engines;

/// <summary>
/// What an engine reports about an instance, as the status API would: the JSON of its custom status and output, and
/// the type and message of its failure. Both are read with <see cref="Json"/>, which accepts only camelCase names and
/// enums as strings: the JSON the embedded host answers with, and what the Functions app's serializer must produce.
/// </summary>
public sealed record RunSnapshot(RunState State, string? CustomStatusJson, string? OutputJson, string? FailureType, string? FailureMessage)
{
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = false,
        Converters = { new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false) },
    };

    public bool IsEnded => State is RunState.Completed or RunState.Failed or RunState.Terminated;

    /// <summary>Whether the run has published a timeline that shows it waiting for a decision.</summary>
    public bool AwaitingApproval => CustomStatusJson is not null && Timeline.AwaitingApproval;

    /// <summary>A restore's or rollback's timeline (its custom status).</summary>
    public RestoreStatus Timeline => CustomStatusJson is null
        ? throw new InvalidOperationException("The instance has no custom status.")
        : JsonSerializer.Deserialize<RestoreStatus>(CustomStatusJson, Json)!;

    /// <summary>The custom status as a JSON document (for orchestrators whose status is not a timeline).</summary>
    public JsonElement CustomStatus => CustomStatusJson is null
        ? throw new InvalidOperationException("The instance has no custom status.")
        : JsonDocument.Parse(CustomStatusJson).RootElement.Clone();

    /// <summary>The output as its contract type.</summary>
    public T Output<T>() => OutputJson is null
        ? throw new InvalidOperationException($"The instance has no output (state {State}, failure {FailureType}: {FailureMessage}).")
        : JsonSerializer.Deserialize<T>(OutputJson, Json)!;
}
