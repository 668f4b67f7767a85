using System.Text;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// pg_dump's own DDL for each item of a post-data listing, cut out of one <c>pg_restore --file</c> of the whole listing,
/// so each item runs as a statement on an open connection instead of as a <c>pg_restore -L</c> process of its own.
/// pg_restore writes the items in the listing's order, each under a <c>-- Name: …; Type: …; Schema: …</c> header, and
/// the session settings an item needs (<c>SET default_tablespace</c>, …) on the lines before that header. Each
/// <see cref="Statements"/> entry carries every setting in effect at its item, so items can run on any connection in
/// any order. When the text does not line up item for item with the listing (<see cref="TryParse"/> returns null), the
/// caller keeps <c>pg_restore -L</c>.
/// </summary>
internal sealed partial class PostDataScript
{
    private PostDataScript(Dictionary<string, string> statements) => Statements = statements;

    /// <summary>Listing line → the SQL to run for it (its settings, then its statements).</summary>
    public IReadOnlyDictionary<string, string> Statements { get; }

    /// <summary>Cuts <paramref name="script"/> (pg_restore's output for <paramref name="listing"/>) into the listing's items.</summary>
    public static PostDataScript? TryParse(IReadOnlyList<string> listing, string script)
    {
        ArgumentNullException.ThrowIfNull(listing);
        ArgumentNullException.ThrowIfNull(script);
        var entries = listing.Where(l => !string.IsNullOrWhiteSpace(l) && !l.StartsWith(';')).ToList();
        var lines = script.Split('\n');
        var settings = new List<KeyValuePair<string, string>>();
        var statements = new Dictionary<string, string>(StringComparer.Ordinal);
        var entry = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            if (!IsHeader(lines, i, out var type))
            {
                if (lines[i].StartsWith("SET client_encoding = ", StringComparison.Ordinal))
                {
                    // Our connections speak UTF-8 and the text was read as UTF-8: any other encoding goes to pg_restore.
                    if (lines[i] != "SET client_encoding = 'UTF8';")
                    {
                        return null;
                    }
                }
                else if (IsSetting(lines[i]))
                {
                    Remember(settings, lines[i]);
                }

                continue;
            }

            // The item's listing line must name the same kind of object, in order: "<id>; <catalog> <oid> <TYPE> …".
            if (entry >= entries.Count || !DescribesType(entries[entry], type))
            {
                return null;
            }

            var body = new StringBuilder();
            var j = i + 3;
            for (; j < lines.Length && !IsHeader(lines, j, out _); j++)
            {
                body.Append(lines[j]).Append('\n');
            }

            var text = TrimTrailingSettings(body.ToString(), out var next);
            if (text is null || text.Length == 0)
            {
                return null;
            }

            var sql = new StringBuilder();
            foreach (var setting in settings)
            {
                sql.Append(setting.Value).Append('\n');
            }

            statements[entries[entry]] = sql.Append(text).ToString();
            foreach (var setting in next)
            {
                Remember(settings, setting);
            }

            entry++;
            i = j - 1;
        }

        return entry == entries.Count ? new PostDataScript(statements) : null;
    }

    private static bool IsHeader(string[] lines, int i, out string type)
    {
        type = string.Empty;
        if (i + 2 >= lines.Length || lines[i] != "--" || lines[i + 2] != "--" || !lines[i + 1].StartsWith("-- Name: ", StringComparison.Ordinal))
        {
            return false;
        }

        // "-- Name: <tag>; Type: <TYPE>; Schema: <namespace>; Owner: <owner>": the type is the one part no name can fake
        // (a name holding "; Type: " would put a second one before it, so take the last).
        var header = lines[i + 1];
        var at = header.LastIndexOf("; Type: ", StringComparison.Ordinal);
        var end = at < 0 ? -1 : header.IndexOf("; Schema: ", at, StringComparison.Ordinal);
        if (at < 0 || end < 0)
        {
            return false;
        }

        type = header[(at + "; Type: ".Length)..end];
        return true;
    }

    private static bool DescribesType(string entry, string type)
    {
        var parts = entry.Split(' ', 4);
        return parts.Length == 4 && parts[3].StartsWith(type + " ", StringComparison.Ordinal);
    }

    /// <summary>The body without the blank lines, comments and settings that pg_restore wrote for the item after it; null when its end cannot be told apart from a setting.</summary>
    private static string? TrimTrailingSettings(string body, out List<string> trailing)
    {
        trailing = [];
        var lines = body.Split('\n').ToList();
        while (lines.Count > 0)
        {
            var last = lines[^1];
            if (last.Length == 0 || last == "--" || last == "-- PostgreSQL database dump complete" || last.StartsWith("\\unrestrict ", StringComparison.Ordinal))
            {
                lines.RemoveAt(lines.Count - 1);
            }
            else if (IsSetting(last))
            {
                trailing.Insert(0, last);
                lines.RemoveAt(lines.Count - 1);
            }
            else if (last.StartsWith("SET ", StringComparison.Ordinal) || last.StartsWith("SELECT pg_catalog.set_config(", StringComparison.Ordinal))
            {
                // A setting in a form we do not take apart, or the last line of a string literal that looks like one:
                // either way, not ours to decide — pg_restore runs the items.
                return null;
            }
            else
            {
                break;
            }
        }

        return lines.Count == 0 ? string.Empty : string.Join('\n', lines) + "\n";
    }

    /// <summary>
    /// Whether a line is one of the session settings pg_restore writes between items, in exactly the form it writes them.
    /// Anything else — a line of a multi-line string literal that happens to start with <c>SET</c> included — is text
    /// of an item, never a setting carried to other items.
    /// </summary>
    private static bool IsSetting(string line) => SettingPattern().IsMatch(line);

    [System.Text.RegularExpressions.GeneratedRegex(
        @"^(SET (statement_timeout|lock_timeout|idle_in_transaction_session_timeout|transaction_timeout|standard_conforming_strings|check_function_bodies|xmloption|client_min_messages|row_security|default_tablespace|default_table_access_method|default_with_oids) = ([A-Za-z0-9_]+|'[A-Za-z0-9_]*');|SELECT pg_catalog\.set_config\('search_path', '[A-Za-z0-9_, ""]*', false\);)$")]
    private static partial System.Text.RegularExpressions.Regex SettingPattern();

    private static void Remember(List<KeyValuePair<string, string>> settings, string line)
    {
        // One entry per setting, the latest wins: "SET name = …" or "SELECT pg_catalog.set_config('name', …)".
        var name = line.StartsWith("SET ", StringComparison.Ordinal)
            ? line[4..].Split([' ', '='], 2)[0]
            : line.Split('\'')[1];
        settings.RemoveAll(s => s.Key == name);
        settings.Add(new KeyValuePair<string, string>(name, line));
    }
}
