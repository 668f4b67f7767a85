namespace RcmPitr.Workflow.Contracts;

/// <summary>Input of the swap-and-keep cutover (runbook step 6, default strategy) and of its rollback.</summary>
/// <param name="LiveDatabase">The database the tenant's connection reference points at (its canonical one unless an
/// earlier flip-the-ref cutover moved it); the restored copy takes this name. Null: the canonical name.</param>
public sealed record SwapCutoverInput(string RunId, DbServerInfo Live, string Tenant, string Stamp, string? LiveDatabase = null);

/// <summary>Result of a swap-and-keep cutover.</summary>
/// <param name="KeptDatabase">The pre-restore database, kept for rollback.</param>
/// <param name="TerminatedConnections">Sessions ended on the databases being renamed.</param>
/// <param name="AlreadyDone">True when an earlier attempt of this run had completed the swap.</param>
public sealed record SwapCutoverResult(string CanonicalDatabase, string KeptDatabase, int TerminatedConnections, bool AlreadyDone);

/// <summary>Input of the flip-the-ref cutover: the tenant's <c>db_config_ref</c> points at the restore database.</summary>
public sealed record FlipRefCutoverInput(string RunId, Guid TenantId, DbServerInfo Live, string Tenant, string Stamp);

/// <summary>Result of the flip-the-ref cutover.</summary>
/// <param name="PreviousRef">The reference before the flip; a rollback points back at it.</param>
public sealed record FlipRefCutoverResult(string? PreviousRef, string NewRef, string DatabaseName, bool Changed);

/// <summary>Input of a rollback of a flip-the-ref cutover: the tenant's reference goes back to the one the flip replaced.</summary>
/// <param name="RunId">The restore run whose flip is undone.</param>
public sealed record RollbackFlipInput(string RunId, Guid TenantId);

/// <summary>Result of rolling a flip back.</summary>
/// <param name="RestoredRef">The reference the tenant points at again.</param>
/// <param name="ParkedDatabase">The restored database the flip had made live; it stays under its name.</param>
public sealed record RollbackFlipResult(string RestoredRef, string ParkedDatabase, bool Changed);

/// <summary>Input of the activity that stops a pending retention drop (a rollback brought its database back).</summary>
public sealed record CancelRetentionDropInput(string InstanceId, string Reason);

/// <summary>Input of a rollback of a swap-and-keep cutover.</summary>
/// <param name="RunId">The restore run whose cutover is rolled back.</param>
/// <param name="LiveDatabase">The name that restore's cutover swapped under (its result's live database). Null: the canonical name.</param>
public sealed record RollbackSwapInput(string RunId, DbServerInfo Live, string Tenant, string Stamp, string? LiveDatabase = null);

/// <summary>Result of a rollback.</summary>
/// <param name="ParkedDatabase">Where the restored database now sits (<c>_rollback_</c>).</param>
public sealed record RollbackSwapResult(string CanonicalDatabase, string ParkedDatabase, int TerminatedConnections, bool AlreadyDone);

/// <summary>Input of dropping one derived database. The name is computed, never passed, so nothing else can be dropped.</summary>
/// <param name="RunId">The run that owns the database: only a database carrying this run's marker is dropped.</param>
/// <param name="LiveDatabase">The tenant's live database name (canonical unless a flip moved it): a kept or parked database
/// is dropped only while it exists. Null: the canonical name.</param>
public sealed record DropDerivedDatabaseInput(string RunId, DbServerInfo Live, string Tenant, string Stamp, DerivedDatabaseKind Kind, string? LiveDatabase = null);

/// <summary>Result of dropping a derived database.</summary>
/// <param name="Dropped">False when it did not exist (already dropped, or never created) or was not this run's.</param>
/// <param name="NotOurs">Why a database of that name was left alone: it carries no marker of this run (another run's,
/// an operator's, or one a rollback or later restore reused). Null when it was dropped or absent.</param>
public sealed record DropDerivedDatabaseResult(string DatabaseName, bool Dropped, string? NotOurs = null);
