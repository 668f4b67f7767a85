namespace RcmPitr.Api;

/// <summary>What a principal may do.</summary>
public static class PrincipalRoles
{
    /// <summary>Starts restores, dry runs, snapshots and rollbacks; cancels its own runs.</summary>
    public const string Requester = "requester";

    /// <summary>Approves or rejects another principal's restore or rollback.</summary>
    public const string Approver = "approver";

    /// <summary>Cancels any run and may roll back without a second person's approval (an audited override).</summary>
    public const string Operator = "operator";

    /// <summary>Every role.</summary>
    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal) { Requester, Approver, Operator };
}
