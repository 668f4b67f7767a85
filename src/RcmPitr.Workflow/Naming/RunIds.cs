using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Workflow.Naming;

/// <summary>
/// Run (orchestration instance) ids appear in idempotency keys, database markers and scratch folder
/// names, so they are restricted to a small safe alphabet.
/// </summary>
public static partial class RunIds
{
    /// <summary>Returns <paramref name="runId"/> or throws <see cref="InvalidRestoreInputException"/>.</summary>
    public static string Require(string? runId)
    {
        if (runId is null || !RunIdPattern().IsMatch(runId))
        {
            throw new InvalidRestoreInputException(
                "runId", "a run id is 1-100 characters of letters, digits, '-', '_' or '.', starting with a letter or digit");
        }

        return runId;
    }

    /// <summary>Length of <see cref="Tag"/>.</summary>
    public const int TagLength = 6;

    /// <summary>
    /// A short tag of <paramref name="runId"/> (the first hex digits of its SHA-256) that the names of the databases
    /// a run creates end with, so two runs never share a database name, whatever their restore times.
    /// </summary>
    public static string Tag(string runId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Require(runId))))[..TagLength];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdPattern();
}
