using RcmPitr.Postgres.ControlPlane;

namespace RcmPitr.Api;

/// <summary>The body of <c>POST /api/restores</c>. Strings, so each field can be validated and named in errors.</summary>
public sealed record StartRestoreBody(string? Tenant, string? RestoreTime, string? Mode, string? Strategy, string? Reason, string? Transfer = null);

/// <summary>
/// The body of <c>POST /api/restore-batches</c>: the tenants (<paramref name="Tenants"/>, or every tenant of <paramref name="Server"/>),
/// and what each member run does, as in <see cref="StartRestoreBody"/>.
/// </summary>
/// <param name="Parallelism">Members moving their database at once (1–16); null: the host's <c>Batch:Parallelism</c>.</param>
public sealed record StartBatchBody(
    IReadOnlyList<string>? Tenants, string? Server, string? RestoreTime, string? Mode, string? Strategy, string? Reason, string? Transfer = null, int? Parallelism = null);

/// <summary>The body of approve / reject.</summary>
public sealed record DecisionBody(string? Comment);

/// <summary>The body of cancel / rollback.</summary>
public sealed record ReasonBody(string? Reason);

/// <summary>Links returned when a run starts (Durable's "check status" payload, plus the approval endpoints).</summary>
public sealed record RunLinks(string Id, string StatusQueryGetUri, string ApproveUri, string RejectUri, string CancelUri, string RollbackUri);

/// <summary>The status-query shape (as Durable Functions returns it).</summary>
public sealed record RunStatus(
    string InstanceId,
    string Name,
    string RuntimeStatus,
    DateTime CreatedTime,
    DateTime LastUpdatedTime,
    object? Input,
    object? CustomStatus,
    object? Output);

/// <summary>
/// <c>customStatus.transfer</c> of a run's status: the live progress of its database transfer. Tables are counted
/// by the streaming mode; the dump modes report their phase and the dump's bytes. The total, throughput and estimate
/// are of the copy (the streaming mode's <c>data</c> phase, a dump mode's <c>dump</c>): index builds and a dump mode's
/// restore follow it and are not in the estimate.
/// </summary>
/// <param name="ProgressedAt">When the counters last moved; the transfer is stopped as stalled when this gets too old.</param>
/// <param name="Error">Why the transfer stopped (a stall, a tool error), if it did.</param>
public sealed record TransferStatus(
    string Mode,
    string Phase,
    int TablesDone,
    int TablesTotal,
    long BytesMoved,
    DateTime StartedAt,
    DateTime UpdatedAt,
    DateTime ProgressedAt,
    string? Error)
{
    /// <summary>The bytes the copy is expected to move, from the source's sizes (an estimate); 0 when unknown.</summary>
    public long BytesTotal { get; init; }

    /// <summary>The copy's achieved throughput, averaged from its first byte (after it: over all of it); null before it is known.</summary>
    public long? BytesPerSecond { get; init; }

    /// <summary><see cref="BytesPerSecond"/> in MB/s (1 MB = 1,048,576 bytes), to one decimal.</summary>
    public double? MbPerSecond { get; init; }

    /// <summary>When the copy should end at that throughput; null when unknown or when no copy is running.</summary>
    public DateTime? EstimatedFinishAt { get; init; }

    /// <summary>Whole seconds from this status to <see cref="EstimatedFinishAt"/> (0 once it has passed); null when that is.</summary>
    public long? SecondsRemaining { get; init; }

    /// <summary>The status of a progress row, with the seconds remaining counted from <paramref name="now"/>.</summary>
    public static TransferStatus From(TransferProgress row, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new TransferStatus(row.Mode, row.Phase, row.TablesDone, row.TablesTotal, row.BytesMoved, row.StartedAt.UtcDateTime, row.UpdatedAt.UtcDateTime, row.ProgressedAt.UtcDateTime, row.Error)
        {
            BytesTotal = row.BytesTotal,
            BytesPerSecond = row.BytesPerSecond is { } rate ? (long)Math.Round(rate) : null,
            MbPerSecond = row.BytesPerSecond is { } mb ? Math.Round(mb / 1048576.0, 1) : null,
            EstimatedFinishAt = row.EstimatedFinishAt?.UtcDateTime,
            SecondsRemaining = row.EstimatedFinishAt is { } eta ? (long)Math.Ceiling(Math.Max(0, (eta - now).TotalSeconds)) : null,
        };
    }
}

/// <summary>Why one tenant cannot be started now: the answer's status code, title and detail (and preflight's problems, or the invalid field).</summary>
public sealed record TenantRefusal(int Status, string Title, string Detail, string? Field = null, IReadOnlyList<string>? Problems = null);
