using System.Text;
using System.Text.RegularExpressions;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Workflow.Naming;

/// <summary>
/// PostgreSQL identifier rules shared by every name RcmPitr builds or accepts. Quoting itself lives
/// with the SQL that uses it; this type decides what is acceptable at all.
/// </summary>
public static partial class PgIdentifierRules
{
    /// <summary>PostgreSQL's NAMEDATALEN - 1: longer identifiers are silently truncated by the server.</summary>
    public const int MaxBytes = 63;

    /// <summary>
    /// Checks a generated database name: lowercase letters, digits and underscores, starting with a
    /// letter, at most <see cref="MaxBytes"/> bytes. Throws <see cref="InvalidRestoreInputException"/> otherwise.
    /// </summary>
    public static string RequireDatabaseName(string? name, string field = "database")
    {
        if (string.IsNullOrEmpty(name) || !DatabaseNamePattern().IsMatch(name))
        {
            throw new InvalidRestoreInputException(
                field, $"'{name}' is not a valid database name (lowercase letters, digits and '_', starting with a letter)");
        }

        if (Encoding.UTF8.GetByteCount(name) > MaxBytes)
        {
            throw new InvalidRestoreInputException(field, $"'{name}' is longer than PostgreSQL's {MaxBytes}-byte identifier limit");
        }

        return name;
    }

    /// <summary>
    /// Checks a plain (unquoted-style) identifier such as a schema or table name from configuration:
    /// a letter or '_' followed by letters, digits, '_' or '$', at most <see cref="MaxBytes"/> bytes.
    /// </summary>
    public static string RequireIdentifier(string? name, string field)
    {
        if (string.IsNullOrEmpty(name) || !PlainIdentifierPattern().IsMatch(name) || Encoding.UTF8.GetByteCount(name) > MaxBytes)
        {
            throw new InvalidRestoreInputException(
                field, $"'{name}' is not a valid identifier (lowercase letters, digits, '_' or '$', starting with a letter or '_', at most {MaxBytes} bytes)");
        }

        return name;
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex DatabaseNamePattern();

    [GeneratedRegex("^[a-z_][a-z0-9_$]*$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainIdentifierPattern();
}
