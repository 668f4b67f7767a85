using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace RcmPitr.Cli;

/// <summary>Renders a run's custom status as lines a person reads while waiting; only new or changed lines are printed.</summary>
internal sealed class TimelineView(TextWriter output)
{
    private readonly Dictionary<int, string> _printed = [];
    private readonly Dictionary<int, int> _attemptsPrinted = [];
    private readonly HashSet<string> _decisionsPrinted = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int> _redeliveriesPrinted = [];
    private bool _approvalHinted;
    private bool _parityPrinted;
    private bool _changesPrinted;
    private string? _transferKey;
    private long _transferPrintedAt;
    private bool _transferErrorPrinted;

    /// <summary>While only the byte count changes, a transfer line is printed at most this often.</summary>
    public static TimeSpan TransferLineInterval { get; } = TimeSpan.FromSeconds(5);

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

                RenderAttempts(index, step);
                index++;
            }
        }

        if (custom.TryGetProperty("transfer", out var transfer) && transfer.ValueKind == JsonValueKind.Object)
        {
            RenderTransfer(transfer);
        }

        if (custom.TryGetProperty("redeliveries", out var redeliveries) && redeliveries.ValueKind == JsonValueKind.Array)
        {
            foreach (var redelivery in redeliveries.EnumerateArray())
            {
                var task = redelivery.GetProperty("taskId").GetInt32();
                var interrupted = redelivery.GetProperty("interruptedDeliveries").GetInt32();
                if (_redeliveriesPrinted.GetValueOrDefault(task) != interrupted)
                {
                    _redeliveriesPrinted[task] = interrupted;
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"    {redelivery.GetProperty("activity").GetString()}: {interrupted} delivery(ies) interrupted (a worker stopped or lost its lease), now {redelivery.GetProperty("state").GetString()} (delivery {redelivery.GetProperty("deliveries").GetInt32()})"));
                }
            }
        }

        if (custom.TryGetProperty("decisions", out var decisions) && decisions.ValueKind == JsonValueKind.Array)
        {
            // By identity, not position: the API merges in refused attempts by time, and a long list is shortened from the front.
            foreach (var decision in decisions.EnumerateArray())
            {
                var verdict = decision.GetProperty("accepted").GetBoolean() ? "accepted" : "refused";
                var key = $"{decision.GetProperty("at").GetRawText()}|{decision.GetProperty("by").GetString()}|{decision.GetProperty("decision").GetString()}|{verdict}";
                if (!_decisionsPrinted.Add(key))
                {
                    continue;
                }

                var note = decision.TryGetProperty("note", out var n) && n.ValueKind == JsonValueKind.String ? $" — {n.GetString()}" : string.Empty;
                output.WriteLine($"    decision: {decision.GetProperty("decision").GetString()} by {decision.GetProperty("by").GetString()} {verdict}{note}");
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

            if (parity.TryGetProperty("rowsOmitted", out var omitted) && omitted.ValueKind == JsonValueKind.Number)
            {
                // Only when the master database could not be read: the API otherwise shows the whole table.
                output.WriteLine($"    … {omitted.GetInt32()} more rows not shown (the full table is in rcm_pitr.parity_reports)");
            }
        }

        if (!_changesPrinted && custom.TryGetProperty("changes", out var changes) && changes.ValueKind == JsonValueKind.Object)
        {
            _changesPrinted = true;
            RenderChanges(id, changes);
        }

        if (!_approvalHinted && custom.TryGetProperty("awaitingApproval", out var awaiting) && awaiting.GetBoolean())
        {
            _approvalHinted = true;
            output.WriteLine($"  awaiting approval by a second person: rcm-pitr approve {id}   (or: rcm-pitr reject {id})");
        }
    }

    /// <summary>What the cutover changes: totals, then the changed tables the status carries (the API serves every table and the sampled keys).</summary>
    private void RenderChanges(string id, JsonElement changes)
    {
        long Number(JsonElement e, string name) => e.GetProperty(name).GetInt64();
        var partial = changes.GetProperty("partial").GetBoolean() ? " — PARTIAL: the time budget ran out, counts so far" : string.Empty;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  changes: {Number(changes, "tablesChanged")} of {Number(changes, "tablesCompared")} tables change, compared in {changes.GetProperty("seconds").GetDouble():0.0} s{partial}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    {Number(changes, "onlyInLive")} rows written after T leave with the cutover (kept in the _pre_pitr_ copy), {Number(changes, "onlyInCopy")} deleted rows come back, {Number(changes, "different")} rows differ"));
        var tables = changes.GetProperty("tables");
        if (tables.GetArrayLength() > 0)
        {
            output.WriteLine($"    {"table",-36} {"after T",10} {"come back",10} {"differ",10}  matched by");
            foreach (var table in tables.EnumerateArray())
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    {table.GetProperty("table").GetString(),-36} {Number(table, "onlyInLive"),10} {Number(table, "onlyInCopy"),10} {Number(table, "different"),10}  {table.GetProperty("matchedBy").GetString()}{(table.GetProperty("partial").GetBoolean() ? " (partial)" : string.Empty)}"));
            }
        }

        if (changes.TryGetProperty("tablesOmitted", out var omitted) && omitted.ValueKind == JsonValueKind.Number && omitted.GetInt32() > 0)
        {
            output.WriteLine($"    … {omitted.GetInt32()} more changed tables");
        }

        output.WriteLine($"    every table and the sampled keys: rcm-pitr changes {id}   (CSV: rcm-pitr changes {id} --csv)");
    }

    private void RenderTransfer(JsonElement transfer)
    {
        var phase = transfer.GetProperty("phase").GetString();
        var done = transfer.GetProperty("tablesDone").GetInt32();
        var total = transfer.GetProperty("tablesTotal").GetInt32();
        var bytes = transfer.GetProperty("bytesMoved").GetInt64();
        var key = $"{phase}/{done}/{total}";
        var now = Stopwatch.GetTimestamp();
        var changed = key != _transferKey;
        var due = Stopwatch.GetElapsedTime(_transferPrintedAt, now) >= TransferLineInterval;
        if ((changed || due) && !(_transferKey is not null && !changed && phase == "done"))
        {
            var tables = total > 0 ? string.Create(CultureInfo.InvariantCulture, $"{done}/{total} tables, ") : string.Empty;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    transfer ({transfer.GetProperty("mode").GetString()}): {phase}, {tables}{TransferBytes(transfer, bytes)}"));
            _transferKey = key;
            _transferPrintedAt = now;
        }

        if (!_transferErrorPrinted && transfer.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
        {
            _transferErrorPrinted = true;
            output.WriteLine($"    transfer stopped: {error.GetString()}");
        }
    }

    /// <summary>
    /// The bytes of a transfer line: moved, or moved of the expected total with the share, then the copy's throughput and
    /// the time it has left, when the status has them — e.g. <c>412/1019 MB (40 %), 61.3 MB/s, about 10 s left (ETA 12:03:41Z)</c>.
    /// </summary>
    internal static string TransferBytes(JsonElement transfer, long bytes)
    {
        var total = Long(transfer, "bytesTotal") ?? 0;
        var text = new System.Text.StringBuilder();
        if (total > 0)
        {
            // Whole MB once the total is large enough that a tenth says nothing.
            var format = total >= 100 * 1048576L ? "0" : "0.0";
            text.Append(CultureInfo.InvariantCulture, $"{(bytes / 1048576.0).ToString(format, CultureInfo.InvariantCulture)}/{(total / 1048576.0).ToString(format, CultureInfo.InvariantCulture)} MB ({bytes * 100 / total} %)");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MB");
        }

        if (transfer.TryGetProperty("mbPerSecond", out var rate) && rate.ValueKind == JsonValueKind.Number)
        {
            text.Append(CultureInfo.InvariantCulture, $", {rate.GetDouble():0.0} MB/s");
        }

        if (Long(transfer, "secondsRemaining") is { } left &&
            transfer.TryGetProperty("estimatedFinishAt", out var eta) && eta.ValueKind == JsonValueKind.String)
        {
            text.Append(CultureInfo.InvariantCulture, $", about {Remaining(left)} left (ETA {eta.GetDateTime().ToUniversalTime():HH:mm:ss}Z)");
        }

        return text.ToString();
    }

    /// <summary>Seconds as a person reads them: <c>45 s</c>, <c>12 min</c>, <c>2 h 05 min</c>.</summary>
    internal static string Remaining(long seconds)
    {
        var minutes = (seconds + 30) / 60;
        return seconds switch
        {
            < 90 => string.Create(CultureInfo.InvariantCulture, $"{seconds} s"),
            < 90 * 60 => string.Create(CultureInfo.InvariantCulture, $"{minutes} min"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{minutes / 60} h {minutes % 60:00} min"),
        };
    }

    private static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    /// <summary>Each failed attempt of a step, once: why it failed and when it is retried.</summary>
    private void RenderAttempts(int index, JsonElement step)
    {
        if (!step.TryGetProperty("attempts", out var attempts) || attempts.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var printed = _attemptsPrinted.GetValueOrDefault(index);
        foreach (var attempt in attempts.EnumerateArray().Skip(printed))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    attempt {attempt.GetProperty("attempt").GetInt32()} of {attempt.GetProperty("activity").GetString()} failed: {attempt.GetProperty("reason").GetString()} (retry at {attempt.GetProperty("retryAt").GetDateTime():HH:mm:ss})"));
            printed++;
        }

        _attemptsPrinted[index] = printed;
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
