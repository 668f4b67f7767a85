using System.Text;
using System.Text.RegularExpressions;

namespace RcmPitr.Workflow.Errors;

/// <summary>
/// Makes failure text safe to leave the database: what PostgreSQL and its tools print on an error may quote row
/// values (PHI). Server detail lines (<c>DETAIL</c>, <c>CONTEXT</c>, <c>Command was</c>, <c>QUERY</c>, …) and
/// lines continuing them are dropped; values quoted inline (<c>invalid input syntax for type integer: "…"</c>,
/// <c>Key (mrn)=(…)</c>, <c>Failing row contains (…)</c>, byte sequences) are replaced by <c>…</c>; the message
/// of an error raised by a database function (<c>RAISE</c>, free text) is withheld; and the result is bounded.
/// What an operator needs stays: the tool, the exit code, the kind of error and the objects it names.
/// </summary>
public static partial class FailureText
{
    /// <summary>The longest text <see cref="Redact"/> returns by default.</summary>
    public const int DefaultMaxChars = 2000;

    /// <summary>What stands in place of a redacted value.</summary>
    public const string Elided = "…";

    /// <summary>What replaces the message of an error raised by a database function.</summary>
    public const string WithheldRaise = "(message raised by a database function; withheld: it can quote row data)";

    private const int MaxLineChars = 600;

    /// <summary>
    /// <paramref name="text"/> without anything that can quote row data, at most <paramref name="maxChars"/> long
    /// (its end kept: tools print the error that stopped them last). Pure; applying it twice changes nothing more.
    /// </summary>
    public static string Redact(string? text, int maxChars = DefaultMaxChars)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return string.Empty;
        }

        var kept = new List<string>();
        int? lastServerError = null;
        var first = true;
        foreach (var raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.TrimEnd();
            if (RaisedByFunction().IsMatch(line) && lastServerError is { } index)
            {
                kept[index] = WithholdServerMessage(kept[index]);
            }

            if (line.Length == 0)
            {
                continue;
            }

            var keep = Keeps(line, first);
            first = false;
            if (!keep)
            {
                continue;
            }

            var redacted = RedactLine(line);
            if (redacted.Length == 0)
            {
                continue;
            }

            kept.Add(redacted);
            if (ServerSeverity().IsMatch(redacted))
            {
                lastServerError = kept.Count - 1;
            }
        }

        return Bound(string.Join('\n', kept), Math.Max(16, maxChars));
    }

    // The first line is the message's own summary; after it, only lines that start a new message are kept. Lines
    // continuing a server detail, a statement or a COPY data line are not, so multi-line detail cannot slip through.
    private static bool Keeps(string line, bool first)
    {
        var body = ToolPrefix().Replace(line.TrimStart(), string.Empty, 1);
        if (DroppedHeader().IsMatch(body))
        {
            return false;
        }

        return first || ToolPrefix().IsMatch(line.TrimStart()) || ServerSeverity().IsMatch(line.TrimStart());
    }

    private static string RedactLine(string line)
    {
        var cut = InlineDetail().Match(line);
        if (cut.Success)
        {
            line = line[..cut.Index].TrimEnd();
        }

        line = KeyValues().Replace(line, m => $"Key ({m.Groups["columns"].Value})={Elided}");
        line = FailingRow().Replace(line, $"Failing row contains ({Elided})");
        line = CopyLine().Replace(line, m => $"{m.Groups["head"].Value}: \"{Elided}\"");
        line = ValueAfterColon().Replace(line, $": \"{Elided}\"");
        line = QuotedValueBefore().Replace(line, m => $"{m.Groups["lead"].Value}\"{Elided}\"{m.Groups["tail"].Value}");
        line = ByteSequence().Replace(line, "0x" + Elided);
        if (line.Length > MaxLineChars)
        {
            line = line[..MaxLineChars] + Elided;
        }

        return line;
    }

    private static string WithholdServerMessage(string line)
    {
        var severity = ServerSeverity().Match(line);
        return severity.Success ? line[..(severity.Index + severity.Length)] + "  " + WithheldRaise : line;
    }

    private static string Bound(string text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text;
        }

        var tail = text[^(maxChars - Elided.Length - 1)..];
        var newline = tail.IndexOf('\n', StringComparison.Ordinal);
        var builder = new StringBuilder(Elided).Append('\n');
        return builder.Append(newline >= 0 && newline < tail.Length - 1 ? tail[(newline + 1)..] : tail).ToString();
    }

    [GeneratedRegex(@"^(?:pg_dump|pg_restore|pg_dumpall|pg_basebackup|psql|pg_ctl|initdb|pg_archivecleanup):\s(?:(?:error|warning|detail|hint|fatal|info):\s)?", RegexOptions.CultureInvariant)]
    private static partial Regex ToolPrefix();

    [GeneratedRegex(@"^(?:DETAIL|CONTEXT|QUERY|STATEMENT|WHERE|HINT|NOTICE|INFO|LOG|LOCATION):|^Command was:|^LINE \d+:|^Failing row contains|^Key \(|^COPY \S+, line \d+", RegexOptions.CultureInvariant)]
    private static partial Regex DroppedHeader();

    [GeneratedRegex(@"\b(?:ERROR|FATAL|PANIC|WARNING):", RegexOptions.CultureInvariant)]
    private static partial Regex ServerSeverity();

    [GeneratedRegex(@"\bat RAISE\b", RegexOptions.CultureInvariant)]
    private static partial Regex RaisedByFunction();

    [GeneratedRegex(@"\s*(?:\bDETAIL:|\bCONTEXT:|\bQUERY:|\bSTATEMENT:|\bHINT:|Command was:|Failing row contains)", RegexOptions.CultureInvariant)]
    private static partial Regex InlineDetail();

    [GeneratedRegex(@"\bKey \((?<columns>[^)]*)\)=\(.*", RegexOptions.CultureInvariant)]
    private static partial Regex KeyValues();

    [GeneratedRegex(@"Failing row contains \(.*", RegexOptions.CultureInvariant)]
    private static partial Regex FailingRow();

    [GeneratedRegex(@"(?<head>\bCOPY \S+, line \d+(?:, column [^:]+)?):\s.*", RegexOptions.CultureInvariant)]
    private static partial Regex CopyLine();

    // invalid input syntax for type integer: "…", malformed array literal: "…", date/time field value out of range: "…"
    // (not right after a severity: in ERROR:  "member" is not a table, the quotes name an object)
    [GeneratedRegex(@"(?<!\b(?:ERROR|FATAL|PANIC|WARNING|error|warning|fatal|detail|hint|info)):\s+""[^\n]*""", RegexOptions.CultureInvariant)]
    private static partial Regex ValueAfterColon();

    // value "…" is out of range, invalid value "…" for "MM", Token "…" is invalid, time zone "…" not recognized
    [GeneratedRegex(@"(?<lead>\b(?:value|Token|time zone)\s)""[^\n]*?""(?<tail>\s(?:is out of range|for|is invalid|not recognized))", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedValueBefore();

    [GeneratedRegex(@"0x[0-9a-fA-F]{2}(?:\s+0x[0-9a-fA-F]{2})*", RegexOptions.CultureInvariant)]
    private static partial Regex ByteSequence();
}
