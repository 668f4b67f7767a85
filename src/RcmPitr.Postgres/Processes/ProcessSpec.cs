namespace RcmPitr.Postgres.Processes;

/// <summary>
/// A program to run. Arguments are passed as a list (never through a shell), and secrets travel only
/// in <see cref="Environment"/>, which is not visible in <c>ps</c> output to other users.
/// </summary>
public sealed record ProcessSpec(
    string FileName,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string>? Environment = null,
    string? WorkingDirectory = null);

/// <summary>The outcome of a finished process: exit code and the tails of its output streams.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError);
