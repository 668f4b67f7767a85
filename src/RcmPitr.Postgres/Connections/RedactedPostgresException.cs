using Npgsql;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Connections;

/// <summary>
/// A server error met while moving a tenant's rows, with its text made safe to leave the database: the SQLSTATE,
/// the message redacted by <see cref="FailureText"/> (or withheld, when a database function raised it: that text is
/// the function's own and may quote the row), and the objects the server named. The original exception is not kept
/// (its fields and data can quote the row). Not a refusal: whether another attempt helps is the same question as
/// for any server error, and <see cref="IsTransient"/> answers it as Npgsql does.
/// </summary>
public sealed class RedactedPostgresException : Exception
{
    private RedactedPostgresException(string message, string sqlState, bool isTransient)
        : base(message)
    {
        SqlState = sqlState;
        IsTransient = isTransient;
    }

    /// <summary>The SQLSTATE the server reported.</summary>
    public string SqlState { get; }

    /// <summary>Whether Npgsql deemed the error transient (a connection lost, a server shutting down, a serialization conflict).</summary>
    public bool IsTransient { get; }

    /// <summary>The safe form of <paramref name="error"/>; <paramref name="doing"/> says what was being done (for example the table copied).</summary>
    public static RedactedPostgresException From(PostgresException error, string? doing = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        var raised = error.Routine == "exec_stmt_raise" || error.Where?.Contains("at RAISE", StringComparison.Ordinal) == true;
        var text = raised ? FailureText.WithheldRaise : FailureText.Redact(error.MessageText, 1000);
        var objects = string.Join(
            ", ",
            new[] { ("table", Qualified(error.SchemaName, error.TableName)), ("column", error.ColumnName), ("constraint", error.ConstraintName) }
                .Where(o => !string.IsNullOrEmpty(o.Item2))
                .Select(o => $"{o.Item1} {o.Item2}"));
        var message = (doing is null ? string.Empty : doing + ": ") + $"{error.SqlState}: {text}" + (objects.Length > 0 ? $" ({objects})" : string.Empty);
        return new RedactedPostgresException(message, error.SqlState, error.IsTransient);
    }

    private static string? Qualified(string? schema, string? table) =>
        string.IsNullOrEmpty(table) ? null : string.IsNullOrEmpty(schema) ? table : $"{schema}.{table}";
}
