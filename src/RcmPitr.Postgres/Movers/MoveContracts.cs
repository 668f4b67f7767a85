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

/// <summary>Progress of a move: its phase, tables finished of all (streaming), and bytes moved or dumped so far.</summary>
/// <param name="Phase"><see cref="MovePhases"/>: schema, data, indexes (streaming); dump, restore (dump modes); done.</param>
public sealed record MoveProgress(string Phase, int TablesDone, int TablesTotal, long BytesMoved);

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
public sealed class MoveMeter
{
    private readonly Lock _gate = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<(TimeSpan At, string What)> _events = new();
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private string _phase = MovePhases.Starting;
    private string? _scratch;
    private int _done;
    private int _total;
    private long _bytes;

    /// <summary>Enters a phase; <paramref name="scratch"/> is the folder whose growth counts as bytes in a dump phase.</summary>
    public void Enter(string phase, string? scratch = null)
    {
        lock (_gate)
        {
            _phase = phase;
            _scratch = scratch;
        }

        Note("phase " + phase);
    }

    /// <summary>What the move did when (job starts and ends), for the benchmark's <c>--trace</c>; names of objects only.</summary>
    public IReadOnlyList<(TimeSpan At, string What)> Events => [.. _events];

    /// <summary>Records an event.</summary>
    public void Note(string what) => _events.Enqueue((System.Diagnostics.Stopwatch.GetElapsedTime(_started), what));

    /// <summary>Sets the number of tables to move.</summary>
    public void SetTables(int total) => Interlocked.Exchange(ref _total, total);

    /// <summary>Counts one finished table.</summary>
    public void TableDone() => Interlocked.Increment(ref _done);

    /// <summary>Counts moved bytes.</summary>
    public void AddBytes(long bytes) => Interlocked.Add(ref _bytes, bytes);

    /// <summary>Sets the byte count (dump modes: the size of the finished dump).</summary>
    public void SetBytes(long bytes) => Interlocked.Exchange(ref _bytes, bytes);

    /// <summary>The current state. In a dump phase the bytes are the dump's size on disk so far.</summary>
    public MoveProgress Snapshot()
    {
        string phase;
        string? scratch;
        lock (_gate)
        {
            phase = _phase;
            scratch = _scratch;
        }

        var bytes = Interlocked.Read(ref _bytes);
        if (scratch is not null)
        {
            bytes = Math.Max(bytes, FolderBytes(scratch));
        }

        return new MoveProgress(phase, Volatile.Read(ref _done), Volatile.Read(ref _total), bytes);
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
}
