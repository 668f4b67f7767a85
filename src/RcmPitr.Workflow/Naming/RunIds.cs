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

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdPattern();
}
