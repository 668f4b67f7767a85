using System.Globalization;
using System.Text;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Api;

/// <summary>
/// The sampled keys of a change report as CSV (RFC 4180), for the people who re-enter lost writes: one line per key with its
/// table, category and key columns, then one column per key value. Only primary key values — never other row data.
/// </summary>
public static class ChangeReportCsv
{
    /// <summary>The category of a key whose row was written after the restore time (it leaves with the cutover).</summary>
    public const string OnlyInLive = "only_in_live";

    /// <summary>The category of a key whose row was deleted after the restore time (it comes back).</summary>
    public const string OnlyInCopy = "only_in_copy";

    /// <summary>The category of a key whose row differs.</summary>
    public const string Different = "different";

    /// <summary>The CSV text of <paramref name="report"/>'s sampled keys.</summary>
    public static string Write(ChangeReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var width = Math.Max(1, report.Tables.Select(t => t.KeyColumns.Count).DefaultIfEmpty(1).Max());
        var csv = new StringBuilder();
        Line(csv, ["table", "category", "key_columns", .. Enumerable.Range(1, width).Select(i => string.Create(CultureInfo.InvariantCulture, $"key_{i}"))]);
        foreach (var table in report.Tables.OrderBy(t => t.Table, StringComparer.Ordinal))
        {
            var columns = string.Join("|", table.KeyColumns);
            foreach (var (category, keys) in new[] { (OnlyInLive, table.Samples.OnlyInLive), (OnlyInCopy, table.Samples.OnlyInCopy), (Different, table.Samples.Different) })
            {
                foreach (var key in keys)
                {
                    Line(csv, [table.Table, category, columns, .. key]);
                }
            }
        }

        return csv.ToString();
    }

    private static void Line(StringBuilder csv, IEnumerable<string?> fields)
    {
        csv.AppendJoin(',', fields.Select(Field));
        csv.Append("\r\n");
    }

    /// <summary>
    /// One field, quoted when it needs to be. A text key that a spreadsheet would run as a formula (it starts with =, +, -, @,
    /// a tab or a carriage return and is not a number) gets a leading apostrophe.
    /// </summary>
    private static string Field(string? value)
    {
        if (value is null)
        {
            return string.Empty;
        }

        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
