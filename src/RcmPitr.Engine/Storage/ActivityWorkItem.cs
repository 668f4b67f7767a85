using System.Text.Json;

namespace RcmPitr.Engine.Storage;

/// <summary>An activity execution claimed by one activity loop under a lease.</summary>
/// <param name="Deliveries">How many times the item has been claimed, this claim included.</param>
/// <param name="LeaseId">The claim's fencing token: only this claim may renew the lease or record the result.</param>
public sealed record ActivityWorkItem(long Id, string InstanceId, int TaskId, string Name, JsonElement? Input, int Deliveries, Guid LeaseId);
