namespace RcmPitr.Workflow.Errors;

/// <summary>The tenant's status does not allow the requested step (for example, freezing a suspended tenant).</summary>
public sealed class TenantStatusConflictException(string slug, string status, string expected)
    : RcmPitrException(
        "tenant_status_conflict",
        $"Tenant '{slug}' is '{status}', expected {expected}. Another operator or process changed it; resolve that first.")
{
    /// <summary>The tenant's slug.</summary>
    public string Slug { get; } = slug;

    /// <summary>The status found.</summary>
    public string Status { get; } = status;
}
