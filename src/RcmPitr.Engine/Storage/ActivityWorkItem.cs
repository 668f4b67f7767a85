using System.Text.Json;

namespace RcmPitr.Engine.Storage;

/// <summary>An activity execution claimed by a worker under a lease.</summary>
public sealed record ActivityWorkItem(long Id, string InstanceId, int TaskId, string Name, JsonElement? Input, int Deliveries);
