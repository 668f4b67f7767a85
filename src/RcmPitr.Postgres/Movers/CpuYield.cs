using System.Globalization;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// Lowers this process's CPU priority while a GIN index build runs on a target server of this same machine, and sets it
/// back when no such build is left. PostgreSQL before 18 builds a GIN index on one core, the streaming move's critical
/// path; the copies beside it relay through this process. Linux's autogroup scheduling (on by default in most
/// distributions' kernels) shares the CPU between sessions first and between a session's processes second, so a
/// server's backends (each cluster is its own session) and this process weigh the same whatever each one's own nice:
/// only the session's autogroup nice (<c>/proc/self/autogroup</c>) lets this process step back. Measured on this
/// project's 2-vCPU benchmark machine, a GIN build beside a loop of copies took 27–28 s with this process's autogroup
/// at nice 0 and 13–15 s at 19 (alone: 11–13 s), the copies moving as many bytes per second either way; renicing the
/// servers' own copy backends changed nothing.
/// </summary>
/// <remarks>
/// The autogroup belongs to the process's session: every process of the session (a shell this process was started
/// from included) steps back with it, for as long as a GIN build runs. Raising the nice needs no privilege; setting a
/// negative one back does, so a session that started below 0 is left as it is. Before lowering it, the yield writes a
/// marker (the session's autogroup, the nice to set back, its process and that process's start time) to a private
/// folder; a process killed while yielding leaves the marker, and the next yield or host start in the same session whose
/// marker names a process no longer running sets that nice back. Process-wide: moves running at once share one count.
/// <para>
/// The kernel takes one autogroup nice per tenth of a second on the whole machine from a process without
/// <c>CAP_SYS_ADMIN</c> and refuses the others as busy (EAGAIN): a GIN build shorter than that, or another process's
/// write just before, would leave the session lowered. Writes refused as busy are tried again a tenth of a second later
/// (lowering, or setting back a leftover of an ended process, up to 3 times; setting back this process's own yield up to
/// 20); a set-back still refused stays pending, the marker in place, for this process's next yield to keep and set back,
/// or for the next host start once this process has ended.
/// </para>
/// <para>
/// Nothing is done where the kernel's switch (<c>kernel.sched_autogroup_enabled</c>) is 0 or the process belongs to
/// the root group (an empty autogroup file). A process in a CPU cgroup of its own is not detected: the kernel takes
/// the nice but schedules by the cgroup, and the trace's "nice 19" then changes nothing.
/// </para>
/// </remarks>
internal sealed class CpuYield(string path, string markerDirectory, string? switchPath = null, Action<string, string>? write = null, TimeSpan? busyDelay = null)
{
    /// <summary>The autogroup file of this process (Linux with <c>CONFIG_SCHED_AUTOGROUP</c>).</summary>
    public const string AutogroupPath = "/proc/self/autogroup";

    /// <summary>The kernel's switch for autogroup scheduling (<c>kernel.sched_autogroup_enabled</c>).</summary>
    public const string SwitchPath = "/proc/sys/kernel/sched_autogroup_enabled";

    /// <summary>The highest nice the kernel takes (the lowest priority).</summary>
    public const int MaxNice = 19;

    /// <summary>
    /// What the yield says for a process of no session autogroup: the kernel prints nothing in its file and keeps the root
    /// group's share fixed. Such are the processes a container's or a microVM's first process starts without a session
    /// of their own; there the servers' sessions and this process's threads share the CPU as they would without the yield.
    /// </summary>
    public const string RootGroupNote = "cpu yield: this process belongs to the kernel's root group, not to a session autogroup; priority left as it is";

    /// <summary>What the yield says when the kernel schedules without autogroups (the switch is 0).</summary>
    public const string SwitchedOffNote = "cpu yield: the kernel's autogroup scheduling is off (kernel.sched_autogroup_enabled = 0); priority left as it is";

    /// <summary>
    /// errno EAGAIN, which .NET carries in the <see cref="IOException"/> of a refused write: the kernel takes one autogroup
    /// nice per tenth of a second on the whole machine from a process without <c>CAP_SYS_ADMIN</c> and refuses the others.
    /// </summary>
    private const int Busy = 11;

    /// <summary>
    /// Tries of a write on the way into a yield or at host start (lowering the nice before a GIN build, or setting back a
    /// leftover an ended process left): a wait of at most about 0.2 s beside a busy kernel.
    /// </summary>
    private const int EntryAttempts = 3;

    /// <summary>Tries to set the nice back (about 2 s); after that it stays pending for the next yield or host start.</summary>
    private const int SetBackAttempts = 20;

    private readonly Lock _gate = new();
    private readonly Action<string, string> _write = write ?? File.WriteAllText;
    private readonly TimeSpan _busyDelay = busyDelay ?? TimeSpan.FromMilliseconds(110);
    private int _holders;
    private int? _restore;
    private string? _marker;

    /// <summary>This process's yield.</summary>
    public static CpuYield Process { get; } = new(AutogroupPath, new PgConnectionOptions().ResolvePasswordFileDirectory(), SwitchPath);

    /// <summary>How many hold the yield now, and the autogroup file's text, read together.</summary>
    internal (int Holders, string Text) Peek()
    {
        lock (_gate)
        {
            return (_holders, File.ReadAllText(path));
        }
    }

    /// <summary>
    /// Whether a build on <paramref name="host"/> competes with this process for its cores: a loopback address,
    /// <c>localhost</c>, or a Unix socket directory (a host name is taken as another machine, never resolved).
    /// </summary>
    public static bool SharesThisMachine(string? host) =>
        PgConnectionOptions.IsLoopback(host) || (host is { Length: > 0 } && (host[0] == '/' || host[0] == '@'));

    /// <summary>The nice in the autogroup file's text (<c>/autogroup-123 nice 0</c>), or null when it says none.</summary>
    public static int? ParseNice(string text)
    {
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = 0; i + 1 < parts.Length; i++)
        {
            if (parts[i] == "nice" && int.TryParse(parts[i + 1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var nice))
            {
                return nice;
            }
        }

        return null;
    }

    /// <summary>
    /// Steps back to <paramref name="nice"/> (1–19) until the returned handle is disposed; the first holder lowers the
    /// priority, the last one sets back the nice found before. Never throws for the kernel's sake: a kernel without
    /// autogroups, a process of the root group or a refused write leaves the priority as it is, and
    /// <paramref name="note"/> says so.
    /// </summary>
    public IDisposable Enter(int nice, Action<string>? note)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nice, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, MaxNice);
        var notes = new List<string>();
        lock (_gate)
        {
            if (_holders++ > 0)
            {
                notes.Add($"cpu yield: held already (nice {nice})");
            }
            else if (_restore is { } pending)
            {
                // The last set-back was refused until it gave up: the session is still lowered, this holder keeps it so.
                notes.Add($"cpu yield: held already (nice {nice}; setting nice {pending} back is still pending)");
            }
            else
            {
                try
                {
                    Lower(nice, notes);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or UnsafeDirectoryException)
                {
                    notes.Add($"cpu yield: not available ({e.GetType().Name}: {e.Message}); priority left as it is");
                }
                catch
                {
                    _holders--;
                    throw;
                }
            }
        }

        var holder = new Holder(this, note);
        try
        {
            Say(note, notes);
        }
        catch
        {
            holder.Dispose();
            throw;
        }

        return holder;
    }

    private void Lower(int nice, List<string> notes)
    {
        if (switchPath is not null && File.Exists(switchPath) && File.ReadAllText(switchPath).Trim() == "0")
        {
            notes.Add(SwitchedOffNote);
            return;
        }

        RecoverLocked(notes);
        var text = File.ReadAllText(path);
        var before = ParseNice(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            notes.Add(RootGroupNote);
        }
        else if (before is null)
        {
            notes.Add($"cpu yield: {path} names no nice; priority left as it is");
        }
        else if (before.Value >= nice)
        {
            notes.Add($"cpu yield: the session already runs at nice {before.Value}");
        }
        else if (before.Value < 0)
        {
            notes.Add($"cpu yield: the session runs at nice {before.Value}, which only a privileged process could set back; priority left as it is");
        }
        else
        {
            var marker = WriteMarker(text, before.Value);
            try
            {
                WriteNice(nice, EntryAttempts);
            }
            catch
            {
                File.Delete(marker);
                throw;
            }

            (_restore, _marker) = (before.Value, marker);
            notes.Add($"cpu yield: nice {nice} (was {before.Value}) while a GIN build runs on this machine");
        }
    }

    private void Leave(Action<string>? note)
    {
        var notes = new List<string>();
        lock (_gate)
        {
            if (--_holders > 0 || _restore is not { } restore)
            {
                return;
            }

            try
            {
                WriteNice(restore, SetBackAttempts);
                File.Delete(_marker!);
                (_restore, _marker) = (null, null);
                notes.Add($"cpu yield: nice {restore} again");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Still lowered, and the marker says so: the next yield of this process keeps it and tries again on its
                // way out, and once this process has ended the next yield or host start of the session sets it back.
                notes.Add($"cpu yield: could not set nice {restore} back yet ({e.GetType().Name}: {e.Message}); the next yield's end or, after this process, the next host start in this session sets it back");
            }
        }

        Say(note, notes);
    }

    /// <summary>
    /// Sets back the nice a process of this session left lowered when it ended while yielding (its marker names a process
    /// no longer running). Never throws for the kernel's or the marker's sake; <paramref name="note"/> says what it did.
    /// </summary>
    public void RecoverLeftover(Action<string>? note)
    {
        var notes = new List<string>();
        lock (_gate)
        {
            if (_holders > 0 || _restore is not null)
            {
                return;
            }

            try
            {
                RecoverLocked(notes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or UnsafeDirectoryException)
            {
                notes.Add($"cpu yield: could not check for a leftover yield ({e.GetType().Name}: {e.Message})");
            }
        }

        Say(note, notes);
    }

    private void RecoverLocked(List<string> notes)
    {
        var text = File.Exists(path) ? File.ReadAllText(path) : "";
        if (string.IsNullOrWhiteSpace(text))
        {
            return; // no autogroup, or the root group: nothing a yield could have left lowered
        }

        var marker = MarkerPath(text);
        if (!Directory.Exists(markerDirectory))
        {
            return;
        }

        // Only this user may have written what is read from here (a folder others can write is refused, not read).
        PrivateDirectory.Ensure(markerDirectory, "the cpu yield's marker folder");
        if (!File.Exists(marker))
        {
            return;
        }

        var fields = File.ReadAllText(marker).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length != 3 || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var restore) || restore > MaxNice ||
            !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || !long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var started))
        {
            File.Delete(marker);
            notes.Add($"cpu yield: a marker that is not the yield's ({Path.GetFileName(marker)}) removed; priority left as it is");
            return;
        }

        if (StartTicks(pid) == started)
        {
            return; // still running: it sets its own yield back
        }

        WriteNice(restore, EntryAttempts);
        File.Delete(marker);
        notes.Add($"cpu yield: nice {restore} set back, left lowered by process {pid}, which ended while yielding");
    }

    /// <summary>Writes <paramref name="nice"/> to the autogroup file, waiting out the kernel's tenth of a second while it refuses as busy.</summary>
    private void WriteNice(int nice, int attempts)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _write(path, nice.ToString(CultureInfo.InvariantCulture));
                return;
            }
            catch (IOException e) when (e.HResult == Busy)
            {
                if (attempt == attempts)
                {
                    throw new IOException($"the kernel refused {path} as busy {attempts} times (it takes one autogroup nice per tenth of a second on the whole machine)", e);
                }

                Thread.Sleep(_busyDelay);
            }
        }
    }

    private static void Say(Action<string>? note, List<string> notes)
    {
        foreach (var text in notes)
        {
            note?.Invoke(text);
        }
    }

    private string WriteMarker(string autogroup, int restore)
    {
        PrivateDirectory.Ensure(markerDirectory, "the cpu yield's marker folder");
        var self = Environment.ProcessId;
        var marker = MarkerPath(autogroup);
        File.WriteAllText(marker, string.Create(CultureInfo.InvariantCulture, $"{restore} {self} {StartTicks(self)}"));
        return marker;
    }

    /// <summary>The marker of the autogroup named in <paramref name="autogroup"/> (<c>/autogroup-123 nice 0</c>).</summary>
    private string MarkerPath(string autogroup)
    {
        var name = autogroup.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is [var first, ..] ? first.Trim('/') : "";
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new IOException($"{path} names no autogroup");
        }

        return Path.Combine(markerDirectory, "cpu-yield-" + name);
    }

    /// <summary>When process <paramref name="pid"/> started (field 22 of its /proc stat, in clock ticks since boot), or -1 when it is not running.</summary>
    private static long StartTicks(int pid) => ProcStat.TryRead(pid)?.Number(22) ?? -1;

    private sealed class Holder(CpuYield owner, Action<string>? note) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Leave(note);
            }
        }
    }
}
