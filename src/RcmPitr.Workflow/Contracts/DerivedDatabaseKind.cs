namespace RcmPitr.Workflow.Contracts;

/// <summary>The databases RcmPitr derives from a tenant's canonical name. None of them is ever the canonical one.</summary>
public enum DerivedDatabaseKind
{
    /// <summary><c>tenant_&lt;x&gt;_restore_&lt;stamp&gt;</c>.</summary>
    Restore,

    /// <summary><c>tenant_&lt;x&gt;_pre_pitr_&lt;stamp&gt;</c>.</summary>
    PrePitr,

    /// <summary><c>tenant_&lt;x&gt;_rollback_&lt;stamp&gt;</c>.</summary>
    Rollback,

    /// <summary><c>tenant_&lt;x&gt;_asof_&lt;stamp&gt;</c>.</summary>
    AsOf,
}
