namespace RcmPitr.Workflow.Errors;

/// <summary>No tenant with the given slug exists in the control plane.</summary>
public sealed class TenantNotFoundException(string slug)
    : RcmPitrException("tenant_not_found", $"No tenant with slug '{slug}' exists in identity.tenant.")
{
    /// <summary>The slug that was looked up.</summary>
    public string Slug { get; } = slug;
}
