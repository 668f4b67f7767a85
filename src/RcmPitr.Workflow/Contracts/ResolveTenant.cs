namespace RcmPitr.Workflow.Contracts;

/// <summary>Input of the resolve-tenant step.</summary>
/// <param name="Tenant">The tenant's slug.</param>
/// <param name="RequireActive">Refuse a tenant that is not <c>active</c> (true before a restore starts).</param>
/// <param name="RestoreTime">When given, also resolve which database the tenant used at that time (<see cref="TenantInfo.SourceDatabase"/>).</param>
public sealed record ResolveTenantInput(string Tenant, bool RequireActive = true, DateTimeOffset? RestoreTime = null);
