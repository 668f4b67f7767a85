namespace RcmPitr.Postgres.Sql;

/// <summary>
/// Quoting for the few statements that cannot take parameters (DDL on databases). Callers validate
/// names first (<see cref="Workflow.Naming.PgIdentifierRules"/>); quoting is the second fence, not the first.
/// </summary>
public static class PgQuote
{
    /// <summary>A double-quoted identifier, with embedded quotes doubled.</summary>
    public static string Identifier(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("An identifier cannot contain NUL.", nameof(name));
        }

        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>A schema-qualified name, each part quoted.</summary>
    public static string Qualified(string schema, string name) => Identifier(schema) + "." + Identifier(name);

    /// <summary>A standard-conforming string literal, with embedded quotes doubled. Backslashes are literal.</summary>
    public static string Literal(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A literal cannot contain NUL.", nameof(value));
        }

        // E'' is never used, so with standard_conforming_strings (on since 9.1) backslashes carry no meaning.
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }
}
