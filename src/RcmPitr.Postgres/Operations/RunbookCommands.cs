using System.Globalization;

namespace RcmPitr.Postgres.Operations;

/// <summary>
/// The runbook's pg_dump and pg_restore options (steps 3 and 4), in one place: the runbook transfer mode's dump and
/// load steps and the mover's runbook mode (which the benchmark times) run exactly these.
/// </summary>
public static class RunbookCommands
{
    /// <summary><c>pg_restore --clean --if-exists --no-owner --no-privileges</c>, stopping at the first error.</summary>
    public static IReadOnlyList<string> RestoreArguments { get; } = ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error"];

    /// <summary><c>pg_dump -Fc -Z &lt;level&gt;</c> (runbook: 6).</summary>
    public static IReadOnlyList<string> DumpArguments(int compressionLevel) =>
        ["--format=custom", $"--compress={compressionLevel.ToString(CultureInfo.InvariantCulture)}"];
}
