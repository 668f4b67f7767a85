namespace RcmPitr.Workflow.Contracts;

/// <summary>Input of the freeze step (runbook step 1): <c>active</c> → <c>read_only</c>.</summary>
/// <param name="RunId">The restore run; with the step it keys the audit row, so a retry never writes twice.</param>
/// <param name="TakeOverFrom">A run whose freeze this run may take over instead of freezing an active tenant: the restore
/// run a rollback undoes, when that run's post-cutover steps left the tenant frozen. Null: the tenant must be active.</param>
public sealed record FreezeTenantInput(string RunId, Guid TenantId, string Actor, string Reason, string? TakeOverFrom = null);

/// <summary>Result of the freeze step.</summary>
/// <param name="Changed">False when an earlier attempt of this run had already frozen the tenant.</param>
/// <param name="TookOver">True when the run took over the freeze of <see cref="FreezeTenantInput.TakeOverFrom"/> instead of freezing an active tenant.</param>
public sealed record FreezeTenantResult(TenantStatus PreviousStatus, bool Changed, bool TookOver = false);

/// <summary>Input of the check, right before the cutover, that the tenant is still frozen by this run.</summary>
public sealed record ConfirmFreezeInput(string RunId, Guid TenantId);

/// <summary>The tenant is frozen by the run since <see cref="FrozenAt"/>.</summary>
public sealed record ConfirmFreezeResult(DateTimeOffset FrozenAt);

/// <summary>Input of the unfreeze step (runbook step 8): <c>read_only</c> → <c>active</c>, only when this run froze it.</summary>
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

    /// <summary>
    /// The tenant is <c>read_only</c>, but not by this run's freeze (another run froze it, this run's freeze was refused,
    /// or someone changed the status since): a run never lifts a freeze it does not own.
    /// </summary>
    NotFrozenByThisRun,
}

/// <summary>Result of the unfreeze step.</summary>
public sealed record UnfreezeTenantResult(UnfreezeOutcome Outcome, TenantStatus Status);
