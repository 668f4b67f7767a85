using System.Text.RegularExpressions;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tools;

/// <summary>
/// Turns a failed pg tool run into the right exception: a lost or refused connection to a server that is
/// restarting, failing over or unreachable is retryable (<see cref="PgToolInterruptedException"/>); anything
/// deterministic (a broken archive, a rejected row, a permission, a wrong password) is a refusal
/// (<see cref="PgToolFailedException"/>). Read from the raw stderr, before redaction.
/// </summary>
public static partial class PgToolFailures
{
    /// <summary>The exception for a run of <paramref name="tool"/> that exited with <paramref name="exitCode"/>.</summary>
    public static Exception For(string tool, int exitCode, string stderr) =>
        IsConnectionLoss(stderr) ? new PgToolInterruptedException(tool, exitCode, stderr) : new PgToolFailedException(tool, exitCode, stderr);

    /// <summary>Whether <paramref name="stderr"/> says the tool lost (or could not get) its connection, for a reason that can pass.</summary>
    public static bool IsConnectionLoss(string? stderr) =>
        !string.IsNullOrEmpty(stderr) && ConnectionLost().IsMatch(stderr) && !Deterministic().IsMatch(stderr);

    [GeneratedRegex(
        @"server closed the connection unexpectedly|could not connect to (?:server|database)|connection to (?:server|database)\b.*\bfailed|" +
        @"terminating connection due to (?:administrator command|conflict with recovery)|the database system is (?:starting up|shutting down|in recovery mode|not (?:yet )?accepting connections)|" +
        @"SSL SYSCALL error|SSL connection has been closed unexpectedly|could not (?:receive|send) data (?:from|to) server|no connection to the server|" +
        @"lost synchronization with server|connection (?:refused|reset by peer|timed out)|timeout expired|could not translate host name|" +
        @"network is unreachable|no route to host|too many clients already|remaining connection slots are reserved|canceling statement due to conflict with recovery",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ConnectionLost();

    [GeneratedRegex(
        @"password authentication failed|no pg_hba\.conf entry|database "".*"" does not exist|role "".*"" does not exist|permission denied|" +
        @"no password supplied|certificate verify failed|root certificate file|does not match host name|SSL is not enabled on the server|server does not support SSL",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Deterministic();
}
