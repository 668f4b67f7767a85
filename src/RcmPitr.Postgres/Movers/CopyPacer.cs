using System.Globalization;
using Npgsql;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// Slows the streaming move's copies while a GIN index build runs, and only while they have time to spare. PostgreSQL
/// 15 builds a GIN index on one core; it is the move's critical path, and a COPY beside it takes CPU it needs (the
/// benchmark measured the build 2–3.6 s longer beside copies than alone, the copies themselves finishing seconds
/// before it). A paced copy waits a multiple of its working time after every few megabytes; it paces only while the
/// copying still left (the source's table sizes, scaled by what the finished copies moved per byte of them), at the
/// copies' recent speed and paced, plus the index builds still to run (their indexes' size on the source, at the
/// seconds per byte the move's finished builds took) end well before the GIN build's estimated end — from its own
/// progress in <c>pg_stat_progress_create_index</c>. The aim: the move no longer, the live server carrying less at once.
/// Off by default: side by side on the benchmark it did not make the move faster
/// (<see cref="Operations.DataMoverOptions.PaceCopiesBesideGin"/>).
/// </summary>
internal sealed class CopyPacer(double factor, int workers, TimeProvider time)
{
    /// <summary>Bytes a copy relays between two decisions to pace.</summary>
    public const int WindowBytes = 4 << 20;

    /// <summary>How often, at most, the trace says why a copy beside a GIN build is not paced.</summary>
    public static readonly TimeSpan NoteInterval = TimeSpan.FromSeconds(2);

    /// <summary>How often the progress of running GIN builds is read.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly Lock _gate = new();
    private readonly Dictionary<int, (long StartedAt, double Fraction)> _gins = [];
    private long _expectedLeft;
    private long _expectedDone;
    private long _movedDone;
    private long _inFlight;
    private double _bytesPerSecond;
    private long? _notedAt;
    private long _buildBytesLeft;
    private long _buildBytesDone;
    private double _buildSeconds;
    private bool _pacing;

    /// <summary>The backends of the GIN builds running now, whose progress the poller reads.</summary>
    public int[] GinBackends
    {
        get
        {
            lock (_gate)
            {
                return [.. _gins.Keys];
            }
        }
    }

    /// <summary>Events for the move's trace (pacing on and off).</summary>
    public Action<string>? Note { get; init; }

    /// <summary>The bytes the copies still to run are expected to move (from the source's table sizes).</summary>
    public void SetTotalBytes(long bytes)
    {
        lock (_gate)
        {
            _expectedLeft = bytes;
        }
    }

    /// <summary>
    /// A copy ended: <paramref name="expected"/> bytes were expected of it, it moved <paramref name="moved"/>, of which
    /// <paramref name="reported"/> were passed to <see cref="PauseAfter"/>. What the finished copies moved per byte
    /// expected scales what is left: a table's size on disk is not what its rows take in binary <c>COPY</c>.
    /// </summary>
    public void PieceDone(long expected, long moved, long reported)
    {
        lock (_gate)
        {
            _expectedLeft = Math.Max(0, _expectedLeft - expected);
            _expectedDone += expected;
            _movedDone += moved;
            _inFlight = Math.Max(0, _inFlight - reported);
        }
    }

    public void GinStarted(int backend)
    {
        lock (_gate)
        {
            _gins[backend] = (time.GetTimestamp(), 0);
        }
    }

    public void GinEnded(int backend)
    {
        lock (_gate)
        {
            _gins.Remove(backend);
        }
    }

    /// <summary>A GIN build's progress: the share of its table's blocks it has scanned.</summary>
    public void GinProgress(int backend, double fraction)
    {
        lock (_gate)
        {
            if (_gins.TryGetValue(backend, out var gin))
            {
                _gins[backend] = gin with { Fraction = fraction };
            }
        }
    }

    /// <summary>
    /// Index builds other than GIN ones are to run, of indexes that take <paramref name="bytes"/> on the source: until
    /// one of them has ended, and so given a rate, copies are not paced.
    /// </summary>
    public void BuildsPlanned(long bytes)
    {
        lock (_gate)
        {
            _buildBytesLeft += bytes;
        }
    }

    /// <summary>A planned build of an index of <paramref name="bytes"/> on the source took <paramref name="seconds"/>.</summary>
    public void BuildDone(double seconds, long bytes)
    {
        lock (_gate)
        {
            _buildBytesLeft = Math.Max(0, _buildBytesLeft - bytes);
            _buildBytesDone += bytes;
            _buildSeconds += seconds;
        }
    }

    /// <summary>
    /// A copy relayed <paramref name="bytes"/> in <paramref name="working"/> (its pauses not counted): how long it waits
    /// now.
    /// </summary>
    public TimeSpan PauseAfter(long bytes, TimeSpan working)
    {
        if (factor <= 0)
        {
            return TimeSpan.Zero;
        }

        bool pace;
        string? note = null;
        lock (_gate)
        {
            _inFlight += bytes;
            // A copy's speed now, unpaced (its pauses are not in its working time): copies side by side at the start
            // run slower than one beside a build, so recent windows weigh most.
            if (working > TimeSpan.Zero)
            {
                var rate = bytes / working.TotalSeconds;
                _bytesPerSecond = _bytesPerSecond > 0 ? _bytesPerSecond + (0.2 * (rate - _bytesPerSecond)) : rate;
            }

            pace = false;
            var now = time.GetTimestamp();
            var buildsLeft = _buildBytesLeft == 0 ? 0 : _buildBytesDone > 0 ? _buildBytesLeft * _buildSeconds / _buildBytesDone : double.PositiveInfinity;
            var copyLeft = (long)Math.Max(0, (_expectedDone > 0 ? _expectedLeft * ((double)_movedDone / _expectedDone) : _expectedLeft) - _inFlight);
            var workersBeside = Math.Max(1, workers - _gins.Count);
            double? ginLeft = null;
            foreach (var gin in _gins.Values)
            {
                var elapsed = time.GetElapsedTime(gin.StartedAt, now).TotalSeconds;
                var spare = Spare(elapsed, gin.Fraction, copyLeft, _bytesPerSecond, buildsLeft, workersBeside, factor);
                pace |= spare > 0;
                if (gin.Fraction > 0)
                {
                    ginLeft = elapsed * (1 - gin.Fraction) / gin.Fraction;
                }
            }

            // What was weighed, for the trace; written only when a note is due, not every window.
            string Estimate() => string.Create(
                CultureInfo.InvariantCulture,
                $"GIN {ginLeft:0.0} s left; per worker beside it, copies {copyLeft / _bytesPerSecond * (1 + factor) / workersBeside:0.0} s paced, {(double.IsInfinity(buildsLeft) ? "builds not timed yet" : string.Create(CultureInfo.InvariantCulture, $"builds {buildsLeft / workersBeside:0.0} s"))}");

            if (pace != _pacing)
            {
                note = pace ? $"pacing copies beside a GIN build ({Estimate()})" : "copies at full speed";
                _notedAt = now;
            }
            else if (!pace && ginLeft is not null && (_notedAt is not { } noted || time.GetElapsedTime(noted, now) >= NoteInterval))
            {
                // Why a copy beside a GIN build is not paced, now and then, for the move's trace.
                note = $"not pacing ({Estimate()})";
                _notedAt = now;
            }

            _pacing = pace;
        }

        if (note is not null)
        {
            Note?.Invoke(note);
        }

        return pace ? working * factor : TimeSpan.Zero;
    }

    /// <summary>
    /// Seconds to spare (positive: pacing is free) when a GIN build has run <paramref name="ginElapsed"/> seconds and
    /// scanned <paramref name="ginFraction"/> of its table, <paramref name="bytesLeft"/> remain to copy at
    /// <paramref name="bytesPerSecond"/> per copy, <paramref name="buildSeconds"/> of builds are still to run (infinite:
    /// not known), and <paramref name="workers"/> workers share that work. An estimate from under 2 % of the scan or half
    /// a second is not trusted (no spare); a tenth of the GIN's remaining time and half a second are kept as margin.
    /// </summary>
    public static double Spare(double ginElapsed, double ginFraction, long bytesLeft, double bytesPerSecond, double buildSeconds, int workers, double factor)
    {
        if (ginFraction < 0.02 || ginFraction >= 1 || ginElapsed < 0.5 || !(bytesPerSecond > 0) || workers < 1)
        {
            return double.NegativeInfinity;
        }

        var ginLeft = ginElapsed * (1 - ginFraction) / ginFraction;
        var workLeft = ((bytesLeft / bytesPerSecond * (1 + factor)) + buildSeconds) / workers;
        return (ginLeft * 0.9) - 0.5 - workLeft;
    }

    /// <summary>
    /// Reads the progress of the running GIN builds on <paramref name="target"/> (a connection nothing else uses until
    /// this ends) every <see cref="PollInterval"/> until <paramref name="stop"/>. A server that cannot say turns pacing off.
    /// </summary>
    public async Task WatchAsync(NpgsqlConnection target, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (factor <= 0)
        {
            return;
        }

        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollInterval, time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var backends = GinBackends;
            if (backends.Length == 0)
            {
                continue;
            }

            try
            {
                // Not cancelled by stop: a query cut short would leave the connection to its next user mid-cancel.
                await using var command = new NpgsqlCommand(
                    "SELECT pid, blocks_done, blocks_total FROM pg_stat_progress_create_index WHERE pid = ANY($1) AND blocks_total > 0", target);
                command.Parameters.Add(new NpgsqlParameter { Value = backends });
                await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
                while (await reader.ReadAsync(CancellationToken.None))
                {
                    GinProgress(reader.GetInt32(0), (double)reader.GetInt64(1) / reader.GetInt64(2));
                }
            }
            catch (NpgsqlException e)
            {
                Note?.Invoke(string.Create(CultureInfo.InvariantCulture, $"copies at full speed: GIN build progress unreadable ({e.GetType().Name})"));
                lock (_gate)
                {
                    _gins.Clear();
                }

                return;
            }
        }
    }
}
