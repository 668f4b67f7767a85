namespace RcmPitr.Workflow.Contracts;

/// <summary>Input of the preflight step: checks the runbook's prerequisites before anything is moved.</summary>
/// <param name="Source">The server the tenant database is dumped from (the PITR server).</param>
/// <param name="Live">The live server the restore database is created on.</param>
/// <param name="Tenant">The tenant's slug.</param>
/// <param name="Transfer">How the database will be moved: decides how much scratch space is required.</param>
/// <param name="SourceDatabase">The tenant's database at the restore time (on <paramref name="Source"/>); null: the canonical one.</param>
/// <param name="LiveDatabase">The tenant's live database (on <paramref name="Live"/>); null: the canonical one.</param>
/// <param name="Snapshot">The copy is an as-of snapshot kept beside live: the per-server cap of kept snapshots applies.</param>
public sealed record PreflightInput(
    DbServerInfo Source,
    DbServerInfo Live,
    string Tenant,
    TransferMode Transfer = TransferMode.Runbook,
    string? SourceDatabase = null,
    string? LiveDatabase = null,
    bool Snapshot = false);

/// <summary>One extension the tenant database uses, and whether the live server can provide it.</summary>
public sealed record ExtensionCheck(string Name, string Version, bool AvailableOnLive);

/// <summary>What preflight measured. Preflight throws when a check fails; this record is the evidence of success.</summary>
public sealed record PreflightResult(
    int SourceMajorVersion,
    int LiveMajorVersion,
    string PgDumpVersion,
    string PgRestoreVersion,
    long DatabaseSizeBytes,
    long ScratchFreeBytes,
    long ScratchRequiredBytes,
    IReadOnlyList<ExtensionCheck> Extensions)
{
    /// <summary>Free storage of the live server before the copy; null when its provisioner cannot tell.</summary>
    public long? LiveFreeBytes { get; init; }

    /// <summary>How the live server's storage was judged, or why it could not be.</summary>
    public string? LiveStorage { get; init; }
}
