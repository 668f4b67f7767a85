using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Tools;

public sealed class PgToolFailuresTests
{
    [Theory]
    [InlineData("pg_restore: error: could not execute query: FATAL:  terminating connection due to administrator command\nserver closed the connection unexpectedly")]
    [InlineData("pg_restore: error: error returned by PQputCopyData: server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally")]
    [InlineData("pg_dump: error: connection to server at \"10.0.0.5\", port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?")]
    [InlineData("pg_dump: error: connection to server at \"db\" (10.0.0.5), port 5432 failed: FATAL:  the database system is starting up")]
    [InlineData("pg_restore: error: connection to server at \"db\", port 5432 failed: FATAL:  the database system is shutting down")]
    [InlineData("pg_restore: error: could not execute query: SSL SYSCALL error: EOF detected")]
    [InlineData("pg_dump: error: Dumping the contents of table \"t\" failed: PQgetResult() failed.\npg_dump: detail: Error message from server: could not receive data from server: Connection reset by peer")]
    public void For_ConnectionLostOrRefused_IsRetryable(string stderr)
    {
        var error = PgToolFailures.For("pg_restore", 1, stderr);

        Assert.IsType<PgToolInterruptedException>(error);
        Assert.IsNotAssignableFrom<RcmPitrException>(error);
    }

    [Theory]
    [InlineData("pg_restore: error: could not execute query: ERROR:  syntax error at or near \"TABEL\"")]
    [InlineData("pg_restore: error: could not execute query: ERROR:  permission denied for schema phi")]
    [InlineData("pg_dump: error: connection to server at \"db\", port 5432 failed: FATAL:  password authentication failed for user \"rcm_admin\"")]
    [InlineData("pg_dump: error: connection to server at \"db\", port 5432 failed: FATAL:  database \"tenant_x\" does not exist")]
    [InlineData("pg_restore: error: input file does not appear to be a valid archive")]
    public void For_DeterministicFailure_StaysARefusal(string stderr)
    {
        var error = PgToolFailures.For("pg_restore", 1, stderr);

        Assert.IsType<PgToolFailedException>(error);
    }
}
