using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Workflow.Parity;

/// <summary>A table whose row count the parity probe compares, named <c>schema.table</c>.</summary>
public sealed record CanaryTable(string Schema, string Table)
{
    /// <summary>The runbook's canary tables, the same ones move-tenant uses.</summary>
    public static IReadOnlyList<CanaryTable> RunbookDefaults { get; } =
    [
        new("identity", "organization"),
        new("security", "app_user"),
        new("members", "member"),
    ];

    /// <summary>Parses <c>schema.table</c>; both parts must be plain lowercase identifiers.</summary>
    public static CanaryTable Parse(string? qualifiedName)
    {
        var parts = (qualifiedName ?? string.Empty).Split('.');
        if (parts.Length != 2)
        {
            throw new InvalidRestoreInputException("canaryTables", $"'{qualifiedName}' is not of the form schema.table");
        }

        return new CanaryTable(
            PgIdentifierRules.RequireIdentifier(parts[0], "canaryTables"),
            PgIdentifierRules.RequireIdentifier(parts[1], "canaryTables"));
    }

    /// <summary>Parses a configured list; null or empty means <see cref="RunbookDefaults"/>. Duplicates are refused.</summary>
    public static IReadOnlyList<CanaryTable> ParseList(IEnumerable<string>? qualifiedNames)
    {
        var tables = (qualifiedNames ?? []).Select(Parse).ToList();
        if (tables.Count == 0)
        {
            return RunbookDefaults;
        }

        var duplicate = tables.GroupBy(t => t).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null
            ? tables
            : throw new InvalidRestoreInputException("canaryTables", $"'{duplicate.Key}' is listed more than once");
    }

    /// <inheritdoc />
    public override string ToString() => $"{Schema}.{Table}";
}
