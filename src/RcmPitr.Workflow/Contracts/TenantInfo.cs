namespace RcmPitr.Workflow.Contracts;

/// <summary>What the control plane knows about a tenant, resolved from its slug.</summary>
public sealed record TenantInfo(
    Guid TenantId,
    string Slug,
    TenantStatus Status,
    DbServerInfo Server,
    string DatabaseName,
    string? DbConfigRef);
