namespace RcmPitr.Workflow.Errors;

/// <summary>A PostgreSQL client tool (pg_dump, pg_restore, …) exited non-zero. Its stderr is carried along.</summary>
public sealed class PgToolFailedException(string tool, int exitCode, string stderr)
    : RcmPitrException("pg_tool_failed", $"{tool} exited with code {exitCode}: {stderr.Trim()}")
{
    /// <summary>The tool's file name.</summary>
    public string Tool { get; } = tool;

    /// <summary>The exit code.</summary>
    public int ExitCode { get; } = exitCode;

    /// <summary>The captured standard error (bounded tail).</summary>
    public string StandardError { get; } = stderr;
}
