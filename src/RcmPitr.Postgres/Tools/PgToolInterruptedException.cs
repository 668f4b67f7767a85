using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tools;

/// <summary>
/// A PostgreSQL client tool lost its server midway or could not reach it (a restart, a failover, an administrator
/// ending the session, a dropped network): a passing fault, so the step is retried like any transient failure rather
/// than refused. Deliberately not an <see cref="RcmPitrException"/> and outside its namespace, which both hosts treat
/// as refusals. Its stderr is redacted by <see cref="FailureText"/>.
/// </summary>
public sealed class PgToolInterruptedException(string tool, int exitCode, string stderr)
    : Exception($"{tool} lost its connection to the server (exit code {exitCode}); the step can be retried: {FailureText.Redact(stderr)}")
{
    /// <summary>The tool's file name.</summary>
    public string Tool { get; } = tool;

    /// <summary>The exit code.</summary>
    public int ExitCode { get; } = exitCode;

    /// <summary>The tail of the tool's standard error, redacted.</summary>
    public string StandardError { get; } = FailureText.Redact(stderr);
}
