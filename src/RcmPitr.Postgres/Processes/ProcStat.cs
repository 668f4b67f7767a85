using System.Globalization;

namespace RcmPitr.Postgres.Processes;

/// <summary>
/// A process's <c>/proc/&lt;pid&gt;/stat</c> line (Linux), its fields numbered as in proc(5) from field 3 on. The
/// command name (field 2) is in parentheses and may hold spaces and parentheses itself: the fields are counted after
/// its last closing one.
/// </summary>
public sealed class ProcStat
{
    private readonly string[] _fields;

    private ProcStat(string text) => _fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');

    /// <summary>Reads the line of process <paramref name="pid"/>; throws when it cannot (the process has ended, or no /proc).</summary>
    public static ProcStat Read(int pid) => new(File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat"));

    /// <summary>Reads the line of process <paramref name="pid"/>, or null when the process is not running (or cannot be read).</summary>
    public static ProcStat? TryRead(int pid)
    {
        try
        {
            return Read(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Field <paramref name="number"/> (3 or more, as proc(5) numbers them: 3 state, 4 parent, 14 utime, 22 starttime) as text.</summary>
    public string Field(int number)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 3);
        return _fields[number - 3];
    }

    /// <summary>Field <paramref name="number"/> as a number.</summary>
    public long Number(int number) => long.Parse(Field(number), CultureInfo.InvariantCulture);
}
