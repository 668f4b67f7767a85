using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Movers;

/// <summary>A move of one database into an existing, empty target database.</summary>
/// <param name="Jobs">Parallel jobs; 0 sizes them to the cores of this machine.</param>
public sealed record MoveRequest(string RunId, DbServerInfo Source, string SourceDatabase, DbServerInfo Target, string TargetDatabase, TransferMode Mode, int Jobs)
{
    /// <summary>
    /// The target may hold an earlier attempt's work on the same move (streaming mode): keep what it committed and do
    /// the rest, or throw <see cref="MoveNotResumableException"/> when that cannot be proven safe. Otherwise the target must be empty.
    /// </summary>
    public bool Resume { get; init; }
}

/// <summary>
/// Progress of a move: its phase, tables finished of all (streaming), bytes moved or dumped so far, and — for the
/// byte-counting phase (<see cref="MovePhases.Data"/> when streaming, <see cref="MovePhases.Dump"/> in the dump modes) —
/// the bytes expected, the throughput achieved and the estimated end of that phase. The estimate covers the copy only:
/// the index and constraint builds (<see cref="MovePhases.Indexes"/>) and a dump mode's restore follow it.
/// </summary>
/// <param name="Phase"><see cref="MovePhases"/>: schema, data, indexes (streaming); dump, restore (dump modes); done.</param>
public sealed record MoveProgress(string Phase, int TablesDone, int TablesTotal, long BytesMoved)
{
    /// <summary>The bytes the byte-counting phase is expected to move (<see cref="MoveMeter.SetTotalBytes"/>); 0 when unknown.</summary>
    public long BytesTotal { get; init; }

    /// <summary>
    /// Bytes per second achieved in the byte-counting phase, averaged from its first byte to now (or to its end, once a
    /// later phase runs); null before a byte was counted, or while the phase has run for less than <see cref="MoveMeter.RateWarmUp"/>.
    /// </summary>
    public double? BytesPerSecond { get; init; }

    /// <summary>
    /// When the byte-counting phase should end at <see cref="BytesPerSecond"/>; null when unknown: no total, no throughput
    /// yet, more bytes moved than the total foresaw, or another phase running.
    /// </summary>
    public DateTimeOffset? EstimatedFinishAt { get; init; }

    /// <summary>Seconds from the snapshot to <see cref="EstimatedFinishAt"/>; null when that is.</summary>
    public double? SecondsRemaining { get; init; }
}

/// <summary>What a move did.</summary>
public sealed record MoveResult(TransferMode Mode, TimeSpan Elapsed, long PeakScratchBytes, long BytesMoved, int Tables)
{
    /// <summary>Bytes an earlier attempt had already committed and this one kept (a resumed streaming move).</summary>
    public long BytesKept { get; init; }

    /// <summary>Pieces of table data (tables or page ranges) kept from an earlier attempt, of all pieces.</summary>
    public int PiecesKept { get; init; }

    /// <summary>Whether the loading sessions ran with <c>synchronous_commit = off</c> (false: the server refused it).</summary>
    public bool RelaxedCommit { get; init; }
}

/// <summary>The target holds an earlier attempt's work that this move cannot safely continue; drop it and start over.</summary>
public sealed class MoveNotResumableException(string message) : Exception(message);

/// <summary>The phases a move reports.</summary>
public static class MovePhases
{
#pragma warning disable CS1591 // The names are their own documentation.
    public const string Starting = "starting";
    public const string Schema = "schema";
    public const string Data = "data";
    public const string Indexes = "indexes";
    public const string Dump = "dump";
    public const string Restore = "restore";
    public const string Done = "done";
#pragma warning restore CS1591
}

/// <summary>
/// The live counters of one move, written by the mover's workers and read by whoever watches it (progress
/// reports, stall detection). Bytes are counted per COPY buffer, so a moving transfer is visible within a second.
/// </summary>
/// <remarks>
/// Throughput is the average over the byte-counting phase (<see cref="MovePhases.Data"/>, <see cref="MovePhases.Dump"/>):
/// the bytes counted since the phase's first byte divided by the time since then — the first COPY buffer when streaming,
/// the phase's start in a dump mode (pg_dump writes at once; its file is only measured when sampled). An average over the
/// whole phase is steady (one slow buffer or a pause between tables barely moves it) at the price of reacting slowly
/// when the rate changes for good, e.g. when only the largest table is left to copy. When the phase ends, the rate is kept
/// as what the phase achieved. The estimated finish is (total − moved) / rate from now; the total is an estimate made from
/// the source's sizes, so the estimate is unknown once more bytes than that have moved.
/// </remarks>
public sealed class MoveMeter
{
    private readonly Lock _gate = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<(TimeSpan At, string What)> _events = new();
    private readonly TimeProvider _time;
    private readonly long _started;
    private string _phase = MovePhases.Starting;
    private string? _scratch;
    private int _done;
    private int _total;
    private long _bytes;
    private long _bytesTotal;

    // The byte-counting phase's rate window: from (timestamp, bytes) at its first byte to (timestamp, bytes) at its end.
    private volatile bool _rateStarted;
    private bool _rateEnded;
    private long _rateFrom;
    private long _rateFromBytes;
    private long _rateTo;
    private long _rateToBytes;

    /// <summary>A meter on the system clock.</summary>
    public MoveMeter()
        : this(TimeProvider.System)
    {
    }

    /// <summary>A meter on <paramref name="time"/> (its timestamps time the phases and the throughput).</summary>
    public MoveMeter(TimeProvider time)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _started = time.GetTimestamp();
    }

    /// <summary>How long a byte-counting phase runs before a throughput (and so an estimated finish) is given.</summary>
    public static TimeSpan RateWarmUp { get; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether <paramref name="phase"/> counts bytes as they move (the phase the throughput and estimate are of).</summary>
    public static bool CountsBytes(string phase) => phase is MovePhases.Data or MovePhases.Dump;

    /// <summary>Enters a phase; <paramref name="scratch"/> is the folder whose growth counts as bytes in a dump phase.</summary>
    public void Enter(string phase, string? scratch = null)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (CountsBytes(_phase) && _rateStarted && !_rateEnded)
            {
                // The byte-counting phase ends: what it achieved stays the throughput shown.
                (_rateEnded, _rateTo, _rateToBytes) = (true, now, CurrentBytes(_scratch));
            }

            if (CountsBytes(phase))
            {
                // A dump's file grows from the start; streaming starts at its first COPY buffer (AddBytes).
                _rateEnded = false;
                (_rateFrom, _rateFromBytes) = (now, CurrentBytes(scratch));
                _rateStarted = phase == MovePhases.Dump;
            }

            _phase = phase;
            _scratch = scratch;
        }

        Note("phase " + phase);
    }

    /// <summary>What the move did when (job starts and ends), for the benchmark's <c>--trace</c>; names of objects only.</summary>
    public IReadOnlyList<(TimeSpan At, string What)> Events => [.. _events];

    /// <summary>
    /// Called with each event's text as it is recorded, on the thread that records it (a worker of the move): for a watcher
    /// that must act at one exact point of the move. It must be quick and must not throw.
    /// </summary>
    public Action<string>? Noted { get; init; }

    /// <summary>Records an event.</summary>
    public void Note(string what)
    {
        _events.Enqueue((_time.GetElapsedTime(_started), what));
        Noted?.Invoke(what);
    }

    /// <summary>Sets the number of tables to move.</summary>
    public void SetTables(int total) => Interlocked.Exchange(ref _total, total);

    /// <summary>
    /// Sets the bytes the byte-counting phase is expected to move (streaming: the sizes, TOAST included, of the tables or
    /// page ranges it still has to copy; dump modes set none: a dump's size is not known before it ends); 0 when unknown. An estimate: the estimated finish is made from it.
    /// </summary>
    public void SetTotalBytes(long total) => Interlocked.Exchange(ref _bytesTotal, Math.Max(0, total));

    /// <summary>Counts one finished table.</summary>
    public void TableDone() => Interlocked.Increment(ref _done);

    /// <summary>Counts moved bytes.</summary>
    public void AddBytes(long bytes)
    {
        var after = Interlocked.Add(ref _bytes, bytes);
        if (!_rateStarted && bytes > 0)
        {
            FirstByte(after - bytes);
        }
    }

    /// <summary>Sets the byte count (dump modes: the size of the finished dump).</summary>
    public void SetBytes(long bytes) => Interlocked.Exchange(ref _bytes, bytes);

    /// <summary>The current state. In a dump phase the bytes are the dump's size on disk so far.</summary>
    public MoveProgress Snapshot()
    {
        string phase;
        long bytes;
        long now, from, fromBytes, to, toBytes;
        bool started, ended;
        lock (_gate)
        {
            phase = _phase;
            bytes = CurrentBytes(_scratch);
            now = _time.GetTimestamp();
            (started, ended, from, fromBytes, to, toBytes) = (_rateStarted, _rateEnded, _rateFrom, _rateFromBytes, _rateTo, _rateToBytes);
        }

        var total = Interlocked.Read(ref _bytesTotal);
        var running = CountsBytes(phase) && started && !ended;
        double? rate = null;
        if (started)
        {
            // While the phase runs: from its first byte to now, once that is long enough to mean something; after it: all of it.
            var (end, endBytes) = ended ? (to, toBytes) : (now, bytes);
            var seconds = _time.GetElapsedTime(from, end).TotalSeconds;
            if ((ended ? seconds > 0 : seconds >= RateWarmUp.TotalSeconds) && endBytes > fromBytes)
            {
                rate = (endBytes - fromBytes) / seconds;
            }
        }

        double? remaining = running && total > 0 && rate > 0 && bytes <= total ? (total - bytes) / rate.Value : null;
        return new MoveProgress(phase, Volatile.Read(ref _done), Volatile.Read(ref _total), bytes)
        {
            BytesTotal = total,
            BytesPerSecond = rate,
            SecondsRemaining = remaining,
            EstimatedFinishAt = remaining is { } r ? _time.GetUtcNow().AddSeconds(r) : null,
        };
    }

    /// <summary>Bytes of every file under <paramref name="folder"/>; 0 when it is gone.</summary>
    public static long FolderBytes(string folder)
    {
        try
        {
            return new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Exists ? f.Length : 0);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            return 0;
        }
    }

    private void FirstByte(long before)
    {
        lock (_gate)
        {
            if (!_rateStarted && _phase == MovePhases.Data)
            {
                (_rateFrom, _rateFromBytes) = (_time.GetTimestamp(), before);
                _rateStarted = true;
            }
        }
    }

    private long CurrentBytes(string? scratch)
    {
        var bytes = Interlocked.Read(ref _bytes);
        return scratch is null ? bytes : Math.Max(bytes, FolderBytes(scratch));
    }
}
