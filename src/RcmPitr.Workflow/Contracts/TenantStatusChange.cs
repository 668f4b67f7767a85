namespace RcmPitr.Workflow.Contracts;

/// <summary>Input of the freeze step (runbook step 1): <c>active</c> → <c>read_only</c>.</summary>
/// <param name="RunId">The restore run; with the step it keys the audit row, so a retry never writes twice.</param>
public sealed record FreezeTenantInput(string RunId, Guid TenantId, string Actor, string Reason);

/// <summary>Result of the freeze step.</summary>
/// <param name="Changed">False when an earlier attempt of this run had already frozen the tenant.</param>
public sealed record FreezeTenantResult(TenantStatus PreviousStatus, bool Changed);

/// <summary>Input of the unfreeze step (runbook step 8): <c>read_only</c> → <c>active</c>.</summary>
public sealed record UnfreezeTenantInput(string RunId, Guid TenantId, string Actor, string Reason);

/// <summary>What the unfreeze step did.</summary>
public enum UnfreezeOutcome
{
    /// <summary>The tenant was <c>read_only</c> and is now <c>active</c>.</summary>
    Unfrozen,

    /// <summary>The tenant was already <c>active</c> (an earlier attempt, or someone else, unfroze it).</summary>
    AlreadyActive,

    /// <summary>The tenant is <c>suspended</c>: an operator's suspension is never lifted by a restore.</summary>
    LeftSuspended,
}

/// <summary>Result of the unfreeze step.</summary>
public sealed record UnfreezeTenantResult(UnfreezeOutcome Outcome, TenantStatus Status);
