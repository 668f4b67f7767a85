namespace RcmPitr.Workflow.Contracts;

/// <summary>Input of the swap-and-keep cutover (runbook step 6, default strategy) and of its rollback.</summary>
public sealed record SwapCutoverInput(string RunId, DbServerInfo Live, string Tenant, string Stamp);

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

/// <summary>Input of a rollback of a swap-and-keep cutover.</summary>
public sealed record RollbackSwapInput(string RunId, DbServerInfo Live, string Tenant, string Stamp);

/// <summary>Result of a rollback.</summary>
/// <param name="ParkedDatabase">Where the restored database now sits (<c>_rollback_</c>).</param>
public sealed record RollbackSwapResult(string CanonicalDatabase, string ParkedDatabase, int TerminatedConnections, bool AlreadyDone);

/// <summary>Input of dropping one derived database. The name is computed, never passed, so nothing else can be dropped.</summary>
/// <param name="RunId">The run that owns the database; a database marked by another run is refused.</param>
public sealed record DropDerivedDatabaseInput(string RunId, DbServerInfo Live, string Tenant, string Stamp, DerivedDatabaseKind Kind);

/// <summary>Result of dropping a derived database.</summary>
/// <param name="Dropped">False when it did not exist (already dropped, or never created).</param>
public sealed record DropDerivedDatabaseResult(string DatabaseName, bool Dropped);
