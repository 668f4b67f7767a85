namespace RcmPitr.Workflow.Errors;

/// <summary>
/// A PostgreSQL client tool (pg_dump, pg_restore, …) failed in a way another attempt cannot change (a broken
/// archive, an object or a row the target rejects, a permission). Its stderr is carried along, redacted by
/// <see cref="FailureText"/>: the server's detail lines can quote row data.
/// </summary>
public sealed class PgToolFailedException(string tool, int exitCode, string stderr)
    : RcmPitrException("pg_tool_failed", $"{tool} exited with code {exitCode}: {FailureText.Redact(stderr)}")
{
    /// <summary>The tool's file name.</summary>
    public string Tool { get; } = tool;

    /// <summary>The exit code.</summary>
    public int ExitCode { get; } = exitCode;

    /// <summary>The tail of the tool's standard error, redacted (never the raw text: it can quote rows).</summary>
    public string StandardError { get; } = FailureText.Redact(stderr);
}
