namespace RcmPitr.Workflow.Contracts;

/// <summary>Input of the load step (runbook step 4): a new <c>_restore_</c> database on the live server.</summary>
/// <param name="Target">Which derived database to load: <c>_restore_</c>, or <c>_asof_</c> for a compliance snapshot.</param>
public sealed record RestoreDatabaseInput(
    string RunId,
    DbServerInfo Live,
    string Tenant,
    string Stamp,
    string DumpPath,
    string DumpSha256,
    DerivedDatabaseKind Target = DerivedDatabaseKind.Restore);

/// <summary>The loaded restore database.</summary>
/// <param name="Reused">True when an earlier attempt of this run had already completed the load.</param>
public sealed record RestoreDatabaseResult(string DatabaseName, long SizeBytes, bool Reused)
{
    /// <summary>The live database's owners and privileges applied to the copy before it was marked loaded.</summary>
    public OwnershipSummary? Ownership { get; init; }
}
