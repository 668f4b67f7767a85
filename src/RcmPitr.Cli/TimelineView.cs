using System.Globalization;
using System.Text.Json;

namespace RcmPitr.Cli;

/// <summary>Renders a run's custom status as lines a person reads while waiting; only new or changed lines are printed.</summary>
internal sealed class TimelineView(TextWriter output)
{
    private readonly Dictionary<int, string> _printed = [];
    private bool _approvalHinted;
    private bool _parityPrinted;

    public void Render(string id, JsonElement status)
    {
        if (!status.TryGetProperty("customStatus", out var custom) || custom.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (custom.TryGetProperty("steps", out var steps))
        {
            var index = 0;
            foreach (var step in steps.EnumerateArray())
            {
                var line = Line(step);
                if (!_printed.TryGetValue(index, out var previous) || previous != line)
                {
                    output.WriteLine(line);
                    _printed[index] = line;
                }

                index++;
            }
        }

        if (!_parityPrinted && custom.TryGetProperty("parity", out var parity) && parity.ValueKind == JsonValueKind.Object)
        {
            _parityPrinted = true;
            output.WriteLine($"  parity: {parity.GetProperty("verdict").GetString()}");
            output.WriteLine($"    {"table",-28} {"live",10} {"restored",10}  verdict  note");
            foreach (var row in parity.GetProperty("rows").EnumerateArray())
            {
                output.WriteLine($"    {row.GetProperty("table").GetString(),-28} {Count(row, "liveCount"),10} {Count(row, "restoredCount"),10}  {row.GetProperty("verdict").GetString(),-7}  {row.GetProperty("note").GetString()}");
            }
        }

        if (!_approvalHinted && custom.TryGetProperty("awaitingApproval", out var awaiting) && awaiting.GetBoolean())
        {
            _approvalHinted = true;
            output.WriteLine($"  awaiting approval by a second person: rcm-pitr approve {id}   (or: rcm-pitr reject {id})");
        }
    }

    private static string Count(JsonElement row, string name) =>
        row.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64().ToString(CultureInfo.InvariantCulture) : "-";

    private static string Line(JsonElement step)
    {
        var name = step.GetProperty("name").GetString();
        var outcome = step.GetProperty("outcome").GetString();
        var started = step.GetProperty("startedAt").GetDateTime();
        var duration = step.TryGetProperty("endedAt", out var ended) && ended.ValueKind == JsonValueKind.String
            ? $"{(ended.GetDateTime() - started).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s"
            : "…";
        var detail = step.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? "  " + d.GetString() : string.Empty;
        return $"  {started:HH:mm:ss} {$"[{outcome}]",-13} {name,-32} {duration,8}{detail}";
    }
}
