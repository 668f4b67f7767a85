using System.Globalization;
using Npgsql;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// Slows the streaming move's copies while a GIN index build runs, and only while they have time to spare. PostgreSQL
/// 15 builds a GIN index on one core; it is the move's critical path, and a COPY beside it takes CPU it needs (the
/// benchmark measured the build 2–3.6 s longer beside copies than alone, the copies themselves finishing seconds
/// before it). A paced copy waits a multiple of its working time after every few megabytes; it paces only while the
/// copying still left, at the paced rate, plus the builds that follow it (at the rate measured so far) end well before
/// the GIN build's estimated end — from its own progress in <c>pg_stat_progress_create_index</c>. The aim: the move no
/// longer, the live server carrying less at once. Off by default: side by side on the benchmark it did not make the
/// move faster (<see cref="Operations.DataMoverOptions.PaceCopiesBesideGin"/>).
/// </summary>
internal sealed class CopyPacer(double factor, int workers, TimeProvider time)
{
    /// <summary>Bytes a copy relays between two decisions to pace.</summary>
    public const int WindowBytes = 4 << 20;

    /// <summary>How often the progress of running GIN builds is read.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly Lock _gate = new();
    private readonly Dictionary<int, (long StartedAt, double Fraction)> _gins = [];
    private long _totalBytes;
    private long _copiedBytes;
    private double _copySeconds;
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

    /// <summary>The bytes the copies still to run are expected to move.</summary>
    public void SetTotalBytes(long bytes) => Interlocked.Exchange(ref _totalBytes, bytes);

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

    /// <summary>A build other than a GIN one took <paramref name="seconds"/>: the builds still to come are estimated per copied byte.</summary>
    public void BuildDone(double seconds)
    {
        lock (_gate)
        {
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
        bool changed;
        lock (_gate)
        {
            _copiedBytes += bytes;
            _copySeconds += working.TotalSeconds;
            pace = false;
            var now = time.GetTimestamp();
            foreach (var gin in _gins.Values)
            {
                var spare = Spare(
                    time.GetElapsedTime(gin.StartedAt, now).TotalSeconds, gin.Fraction, Math.Max(0, Interlocked.Read(ref _totalBytes) - _copiedBytes),
                    _copySeconds > 0 ? _copiedBytes / _copySeconds : 0, _buildSeconds / _copiedBytes, Math.Max(1, workers - _gins.Count), factor);
                pace |= spare > 0;
            }

            changed = pace != _pacing;
            _pacing = pace;
        }

        if (changed)
        {
            Note?.Invoke(pace ? "pacing copies beside a GIN build" : "copies at full speed");
        }

        return pace ? working * factor : TimeSpan.Zero;
    }

    /// <summary>
    /// Seconds to spare (positive: pacing is free) when a GIN build has run <paramref name="ginElapsed"/> seconds and
    /// scanned <paramref name="ginFraction"/> of its table, <paramref name="bytesLeft"/> remain to copy at
    /// <paramref name="bytesPerSecond"/> per copy, each copied byte is followed by <paramref name="buildSecondsPerByte"/>
    /// of builds, and <paramref name="workers"/> workers share that work. An estimate from under 2 % of the scan or half
    /// a second is not trusted (no spare); a tenth of the GIN's remaining time and half a second are kept as margin.
    /// </summary>
    public static double Spare(double ginElapsed, double ginFraction, long bytesLeft, double bytesPerSecond, double buildSecondsPerByte, int workers, double factor)
    {
        if (ginFraction < 0.02 || ginFraction >= 1 || ginElapsed < 0.5 || !(bytesPerSecond > 0) || workers < 1)
        {
            return double.NegativeInfinity;
        }

        var ginLeft = ginElapsed * (1 - ginFraction) / ginFraction;
        var workLeft = ((bytesLeft / bytesPerSecond * (1 + factor)) + (bytesLeft * buildSecondsPerByte)) / workers;
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
