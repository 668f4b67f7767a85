namespace RcmPitr.Workflow.Contracts;

/// <summary>What the control plane knows about a tenant, resolved from its slug.</summary>
/// <param name="DatabaseName">The tenant's canonical database name, <c>tenant_&lt;slug&gt;</c>.</param>
/// <param name="LiveDatabase">The database the tenant's connection reference points at now: the canonical one, or the
/// restored copy an earlier flip-the-ref cutover made live. Null: the canonical one.</param>
/// <param name="SourceDatabase">The database the tenant used at the requested restore time — the one to copy from the
/// restored server. Null: the live one.</param>
public sealed record TenantInfo(
    Guid TenantId,
    string Slug,
    TenantStatus Status,
    DbServerInfo Server,
    string DatabaseName,
    string? DbConfigRef,
    string? LiveDatabase = null,
    string? SourceDatabase = null)
{
    /// <summary>The database the application uses now.</summary>
    public string Live => LiveDatabase ?? DatabaseName;

    /// <summary>The database to copy from the server restored to T.</summary>
    public string Source => SourceDatabase ?? Live;
}
