namespace RcmPitr.Workflow.Contracts;

/// <summary>The audit events RcmPitr writes to <c>identity.tenant_audit</c>.</summary>
public static class AuditEvents
{
    /// <summary>Runbook step 9: a restore was cut over.</summary>
    public const string PitrRestored = "TENANT_PITR_RESTORED";

    /// <summary>A restore (or rollback) failed and what it had done before the cutover was undone.</summary>
    public const string PitrFailed = "TENANT_PITR_FAILED";

    /// <summary>The approver rejected the cutover (or the rollback); compensated.</summary>
    public const string PitrRejected = "TENANT_PITR_REJECTED";

    /// <summary>Nobody decided within the approval timeout; compensated.</summary>
    public const string PitrApprovalTimedOut = "TENANT_PITR_APPROVAL_TIMED_OUT";

    /// <summary>Cancelled on request before the cutover; compensated.</summary>
    public const string PitrCancelled = "TENANT_PITR_CANCELLED";

    /// <summary>A cut-over restore was rolled back.</summary>
    public const string PitrRolledBack = "TENANT_PITR_ROLLED_BACK";

    /// <summary>A dry run (every step but freeze, approval and cutover) completed.</summary>
    public const string PitrDryRun = "TENANT_PITR_DRY_RUN";

    /// <summary>An as-of snapshot database was produced.</summary>
    public const string PitrSnapshot = "TENANT_PITR_SNAPSHOT";

    /// <summary>Freeze / unfreeze.</summary>
    public const string StatusChanged = "TENANT_STATUS_CHANGED";

    /// <summary>Flip-the-ref cutover: <c>identity.tenant.db_config_ref</c> now points at another database.</summary>
    public const string DbRefChanged = "TENANT_DB_REF_CHANGED";

    /// <summary>
    /// Region loss: the tenant was re-pointed from its lost server to the geo-restored one (<c>identity.tenant.db_server</c> and
    /// a new connection reference), in the same transaction as this row; details carry the previous server and reference.
    /// </summary>
    public const string DbServerChanged = "TENANT_DB_SERVER_CHANGED";

    /// <summary>Region loss: the tenant serves again from the recovered server (verified, unfrozen); details carry the restore point.</summary>
    public const string ServerRecovered = "TENANT_SERVER_RECOVERED";

    /// <summary>Region loss: the tenant's recovery failed or was rejected; what it did before the re-point was undone.</summary>
    public const string ServerRecoveryFailed = "TENANT_SERVER_RECOVERY_FAILED";

    /// <summary>Every event this tool writes.</summary>
    public static IReadOnlyList<string> All { get; } =
        [PitrRestored, PitrFailed, PitrRejected, PitrApprovalTimedOut, PitrCancelled, PitrRolledBack, PitrDryRun, PitrSnapshot, StatusChanged, DbRefChanged,
         DbServerChanged, ServerRecovered, ServerRecoveryFailed];
}

/// <summary>Input of the audit step.</summary>
/// <param name="RunId">With <paramref name="Event"/> it forms the idempotency key: one row per run and event.</param>
/// <param name="Details">Flat, non-secret facts (names, counts, sizes); never row data.</param>
public sealed record WriteAuditInput(
    string RunId,
    Guid TenantId,
    string Event,
    string Actor,
    string Reason,
    IReadOnlyDictionary<string, string>? Details = null);

/// <summary>Result of the audit step.</summary>
/// <param name="Inserted">False when an earlier attempt had already written the row.</param>
public sealed record WriteAuditResult(long AuditId, bool Inserted);

/// <summary>Input of the cache invalidation step (runbook step 7).</summary>
public sealed record InvalidateTenantCacheInput(Guid TenantId);
