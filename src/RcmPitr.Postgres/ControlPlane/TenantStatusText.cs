using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>Maps <see cref="TenantStatus"/> to and from the text stored in <c>identity.tenant.status</c>.</summary>
public static class TenantStatusText
{
    /// <summary>The stored text.</summary>
    public static string ToText(TenantStatus status) => status switch
    {
        TenantStatus.Active => "active",
        TenantStatus.ReadOnly => "read_only",
        TenantStatus.Suspended => "suspended",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>Parses the stored text.</summary>
    public static TenantStatus Parse(string text) => text switch
    {
        "active" => TenantStatus.Active,
        "read_only" => TenantStatus.ReadOnly,
        "suspended" => TenantStatus.Suspended,
        _ => throw new InvalidOperationException($"identity.tenant.status holds unknown value '{text}'."),
    };
}
