using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Movers;

/// <summary>How a tenant database is moved from the restored server into a database on the live server.</summary>
public enum MoveMode
{
    /// <summary>The runbook's commands: <c>pg_dump -Fc -Z 6</c> to a file, <c>pg_restore --clean --if-exists --no-owner --no-privileges</c>, one job.</summary>
    Runbook,

    /// <summary>Directory format, uncompressed, <c>pg_dump -j</c> / <c>pg_restore -j</c> sized to the cores.</summary>
    Parallel,

    /// <summary>
    /// No dump file: schema (pre-data) restored first, then every table streamed as binary COPY from the source
    /// straight into the target in parallel under one exported snapshot, then sequences, then post-data
    /// (indexes, constraints, triggers) with parallel jobs.
    /// </summary>
    Streaming,
}

/// <summary>A move of one database into an existing, empty target database.</summary>
public sealed record MoveRequest(string RunId, DbServerInfo Source, string SourceDatabase, DbServerInfo Target, string TargetDatabase, MoveMode Mode, int Jobs);

/// <summary>Progress of a move: tables finished of all, and bytes moved so far.</summary>
public sealed record MoveProgress(int TablesDone, int TablesTotal, long BytesMoved);

/// <summary>What a move did.</summary>
public sealed record MoveResult(MoveMode Mode, TimeSpan Elapsed, long PeakScratchBytes, long BytesMoved, int Tables);
