namespace RcmPitr.Workflow.Contracts;

/// <summary>A tenant's status in <c>identity.tenant.status</c>.</summary>
public enum TenantStatus
{
    /// <summary><c>active</c>: serving reads and writes.</summary>
    Active,

    /// <summary><c>read_only</c>: frozen, as runbook step 1 does before a restore.</summary>
    ReadOnly,

    /// <summary><c>suspended</c>: blocked by an operator.</summary>
    Suspended,
}
