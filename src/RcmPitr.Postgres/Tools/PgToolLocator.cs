using System.Globalization;
using System.Text.RegularExpressions;
using RcmPitr.Postgres.Processes;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tools;

/// <summary>
/// Finds PostgreSQL programs and checks their major version at run time: pg_dump and pg_restore must
/// match the server they talk to, and nothing here assumes which major that is.
/// </summary>
public sealed partial class PgToolLocator(PgToolOptions options, IProcessRunner processes)
{
    /// <summary>The installed major versions under the versioned root, newest first.</summary>
    public IReadOnlyList<int> InstalledMajors() =>
        Directory.Exists(options.VersionedRoot)
            ? Directory.EnumerateDirectories(options.VersionedRoot)
                .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0)
                .Where(m => m > 0 && File.Exists(Path.Combine(options.VersionedRoot, m.ToString(CultureInfo.InvariantCulture), "bin", "pg_dump")))
                .OrderDescending()
                .ToList()
            : [];

    /// <summary>
    /// The bin folder for a major version: <see cref="PgToolOptions.BinDirectory"/> when set, else the
    /// versioned folder; null <paramref name="major"/> means the newest installed.
    /// </summary>
    public string BinDirectoryFor(int? major)
    {
        if (options.BinDirectory is not null)
        {
            return options.BinDirectory;
        }

        var installed = InstalledMajors();
        var chosen = major ?? (installed.Count > 0 ? installed[0] : 0);
        if (!installed.Contains(chosen))
        {
            throw new PreflightFailedException([
                major is null
                    ? $"no PostgreSQL installation found under {options.VersionedRoot}; install the client tools or set PG_BIN"
                    : $"PostgreSQL {major} client tools are not installed (found: {Describe(installed)} under {options.VersionedRoot}); " +
                      $"install postgresql-client-{major} or set PG_BIN to a folder holding them",
            ]);
        }

        return Path.Combine(options.VersionedRoot, chosen.ToString(CultureInfo.InvariantCulture), "bin");
    }

    /// <summary>Locates <paramref name="name"/> and, when <paramref name="requiredMajor"/> is given, checks it matches.</summary>
    public async Task<PgTool> LocateAsync(string name, int? requiredMajor, CancellationToken cancellationToken)
    {
        var path = Path.Combine(BinDirectoryFor(requiredMajor), name);
        if (!File.Exists(path))
        {
            throw new PreflightFailedException([$"{name} not found at {path}"]);
        }

        var result = await processes.RunAsync(new ProcessSpec(path, ["--version"]), cancellationToken);
        var text = result.StandardOutput.Trim();
        var match = VersionPattern().Match(text);
        if (result.ExitCode != 0 || !match.Success)
        {
            throw new PreflightFailedException([$"could not read the version of {path}: {text} {result.StandardError.Trim()}"]);
        }

        var major = int.Parse(match.Groups["major"].Value, CultureInfo.InvariantCulture);
        if (requiredMajor is { } required && major != required)
        {
            throw new PreflightFailedException([
                $"{name} at {path} is PostgreSQL {major} but the server is PostgreSQL {required}; the tools must match the server's major version",
            ]);
        }

        return new PgTool(name, path, major, text);
    }

    private static string Describe(IReadOnlyList<int> majors) =>
        majors.Count == 0 ? "none" : string.Join(", ", majors.Select(m => m.ToString(CultureInfo.InvariantCulture)));

    // "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" or "pg_restore (PostgreSQL) 17.2"
    [GeneratedRegex(@"\(PostgreSQL\)\s+(?<major>\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();
}
