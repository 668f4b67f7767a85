namespace RcmPitr.Workflow.Contracts;

/// <summary>How the tenant database travels from the restored server into a new database on the live server.</summary>
public enum TransferMode
{
    /// <summary>
    /// No dump file (the default, chosen by the transfer benchmark): the schema first, then every table as
    /// binary COPY streamed from the restored server straight into the live one in parallel under one
    /// snapshot, then sequences, then indexes and constraints with parallel jobs. Needs no scratch space.
    /// </summary>
    Streaming,

    /// <summary>Directory-format dump, uncompressed, <c>pg_dump -j</c> / <c>pg_restore -j</c> sized to the cores. Scratch ≈ the data size.</summary>
    Parallel,

    /// <summary>The runbook's commands as written: <c>pg_dump -Fc -Z 6</c> to a checksummed file, then one-job <c>pg_restore</c>.</summary>
    Runbook,
}

/// <summary>Input of the one-step transfer (every mode but <see cref="TransferMode.Runbook"/>, which keeps the dump and load steps).</summary>
/// <param name="RunId">The restore run: owns the target database's marker and the scratch folder.</param>
/// <param name="Source">The server the tenant database is read from (the PITR server).</param>
/// <param name="Live">The live server the new database is created on.</param>
/// <param name="Tenant">The tenant's slug.</param>
/// <param name="Stamp">The restore stamp (<c>yyyyMMddHHmmss</c>).</param>
/// <param name="Target">Which derived database to fill: <c>_restore_</c>, or <c>_asof_</c> for a compliance snapshot.</param>
/// <param name="Mode">How to move it.</param>
public sealed record MoveTenantInput(
    string RunId,
    DbServerInfo Source,
    DbServerInfo Live,
    string Tenant,
    string Stamp,
    DerivedDatabaseKind Target,
    TransferMode Mode)
{
    /// <summary>The tenant's database at the restore time (one of its own names); null: the canonical one.</summary>
    public string? SourceDatabase { get; init; }
}

/// <summary>The filled database and what the move did.</summary>
/// <param name="Reused">True when an earlier attempt of this run had already finished the move.</param>
/// <param name="Tables">Tables whose rows were moved.</param>
/// <param name="BytesMoved">Bytes of table data moved (COPY bytes when streaming, dump bytes otherwise).</param>
/// <param name="PeakScratchBytes">Largest scratch footprint on local disk.</param>
/// <param name="Seconds">Wall time of the move.</param>
public sealed record MoveTenantResult(
    string DatabaseName,
    long SizeBytes,
    bool Reused,
    TransferMode Mode,
    int Tables,
    long BytesMoved,
    long PeakScratchBytes,
    double Seconds)
{
    /// <summary>The live database's owners and privileges applied to the copy before it was marked loaded.</summary>
    public OwnershipSummary? Ownership { get; init; }

    /// <summary>Bytes of table data an earlier, interrupted attempt of this step had committed and this one kept (a resumed streaming move).</summary>
    public long BytesKept { get; init; }

    /// <summary>Pieces of table data (tables or page ranges) kept from an earlier attempt.</summary>
    public int PiecesKept { get; init; }
}
