namespace RcmPitr.Workflow.Contracts;

/// <summary>Input of the dump step (runbook step 3).</summary>
/// <param name="RunId">The restore run; the dump lives in a folder of its own.</param>
/// <param name="Source">The server to dump from (the PITR server).</param>
/// <param name="Tenant">The tenant's slug.</param>
/// <param name="Stamp">The restore stamp (<c>yyyyMMddHHmmss</c>).</param>
/// <param name="SourceDatabase">The tenant's database at the restore time (one of its own names); null: the canonical one.</param>
public sealed record DumpTenantInput(string RunId, DbServerInfo Source, string Tenant, string Stamp, string? SourceDatabase = null);

/// <summary>The finished dump: a 0600 file, its size and SHA-256.</summary>
/// <param name="Reused">True when a complete dump from an earlier attempt was found and verified.</param>
public sealed record DumpTenantResult(string DumpPath, long SizeBytes, string Sha256, bool Reused);

/// <summary>Input of the scratch clean-up step.</summary>
public sealed record DeleteDumpInput(string RunId);

/// <summary>Result of the scratch clean-up step.</summary>
public sealed record DeleteDumpResult(int FilesDeleted, long BytesFreed);
