using System.Globalization;
using System.Text.Json;

namespace RcmPitr.Cli;

/// <summary>Prints a run's change report (<c>GET /api/restores/{id}/changes</c>): totals, then each changed table with sampled keys.</summary>
internal static class ChangesView
{
    public static void Print(TextWriter output, JsonElement report, int samplesShown)
    {
        long Number(JsonElement e, string name) => e.GetProperty(name).GetInt64();
        var tables = report.GetProperty("tables").EnumerateArray().ToList();
        var changed = tables.Where(t => t.GetProperty("changed").GetBoolean()).ToList();
        output.WriteLine($"live {report.GetProperty("liveDatabase").GetString()} vs restored copy {report.GetProperty("copyDatabase").GetString()}, computed {report.GetProperty("computedAt").GetDateTime():u}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{changed.Count} of {tables.Count} tables change; compared in {report.GetProperty("seconds").GetDouble():0.0} s{(report.GetProperty("partial").GetBoolean() ? " — PARTIAL: the time budget ran out, counts so far" : string.Empty)}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Number(report, "onlyInLive")} rows written after T leave with the cutover, {Number(report, "onlyInCopy")} deleted rows come back, {Number(report, "different")} rows differ"));
        if (report.TryGetProperty("keptDatabase", out var kept) && kept.ValueKind == JsonValueKind.String)
        {
            output.WriteLine($"after the cutover, the rows written after T are in {kept.GetString()} (replay from there)");
        }

        if (report.TryGetProperty("privileges", out var privileges) && privileges.ValueKind == JsonValueKind.Object)
        {
            var differences = privileges.GetProperty("differences").EnumerateArray().ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"owners and privileges: {privileges.GetProperty("objectsCompared").GetInt32()} objects compared, {(differences.Count == 0 ? "all as live's" : $"{differences.Count} differ from live's")}"));
            foreach (var difference in differences)
            {
                string? Text(string name) => difference.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var owner = Text("liveOwner") is { } liveOwner ? $" owner {liveOwner} in live, {Text("copyOwner")} in the copy;" : string.Empty;
                var acl = Text("liveAcl") is { } liveAcl ? $" privileges live [{liveAcl}], copy [{Text("copyAcl")}]" : string.Empty;
                output.WriteLine($"  {Text("kind")} {Text("object")}:{owner}{acl}");
            }
        }

        foreach (var table in changed)
        {
            output.WriteLine();
            var keyColumns = table.GetProperty("keyColumns").EnumerateArray().Select(c => c.GetString()).ToList();
            var matched = table.GetProperty("matchedBy").GetString();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Printable(table.GetProperty("table").GetString()!)}  ({matched}{(keyColumns.Count > 0 ? ": " + string.Join(", ", keyColumns) : string.Empty)}; live {Number(table, "liveRows")} rows, copy {Number(table, "copyRows")}){(table.GetProperty("partial").GetBoolean() ? " PARTIAL" : string.Empty)}"));
            var samples = table.GetProperty("samples");
            Category(output, "written after T, leave", Number(table, "onlyInLive"), samples.GetProperty("onlyInLive"), samplesShown);
            Category(output, "deleted after T, come back", Number(table, "onlyInCopy"), samples.GetProperty("onlyInCopy"), samplesShown);
            Category(output, "differ", Number(table, "different"), samples.GetProperty("different"), samplesShown);
        }

        output.WriteLine();
        output.WriteLine("Only primary key values are shown; no other row data leaves the database. All sampled keys: --csv");
    }

    private static void Category(TextWriter output, string label, long count, JsonElement keys, int shown)
    {
        if (count == 0)
        {
            return;
        }

        var listed = keys.EnumerateArray().Take(shown).Select(Key).ToList();
        var more = count - listed.Count;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {count,10} {label}{(listed.Count > 0 ? ": " + string.Join(", ", listed) : string.Empty)}{(listed.Count > 0 && more > 0 ? $" … (+{more})" : string.Empty)}"));
    }

    private static string Key(JsonElement key) =>
        "(" + string.Join(", ", key.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? "NULL" : Printable(v.GetString()!))) + ")";

    /// <summary>A key's text with control characters shown as <c>\uXXXX</c>: a tenant's key never drives the operator's terminal.</summary>
    internal static string Printable(string text) =>
        text.Any(char.IsControl)
            ? string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()))
            : text;
}
