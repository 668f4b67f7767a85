namespace RcmPitr.Postgres.Provisioning;

/// <summary>
/// The storage of a live server, as far as its provisioner can tell: what preflight weighs a full copy of a tenant
/// database against. A null value is unknown (for example Azure reports the provisioned size, not the free space).
/// </summary>
/// <param name="CapacityBytes">The size of the server's storage.</param>
/// <param name="FreeBytes">What is left of it.</param>
public sealed record ServerStorage(long? CapacityBytes, long? FreeBytes)
{
    /// <summary>Nothing is known.</summary>
    public static ServerStorage Unknown { get; } = new(null, null);
}
