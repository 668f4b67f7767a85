using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;

namespace RcmPitr.Workflow.Restores;

/// <summary>
/// Keeps a run's published status within a size budget. Durable Functions' default storage provider refuses a custom
/// status over 16 KB, and a status can grow with the canary tables, with retried steps' reasons and with refused
/// decisions. The status is shrunk in steps until it fits: first the parity table keeps only the rows that need a look,
/// failing ones first (the full table is in the master database; <see cref="ParityReport.RowsOmitted"/> counts the rest),
/// then the change summary keeps fewer of its most changed tables (<see cref="ChangeSummary.TablesOmitted"/> counts the
/// rest; the full report is in the master database too), then texts and retry lists get shorter. The verdict, every step's outcome and the accepted decisions always stay; the
/// failing rows stay unless there are so many that the last steps must leave some of them out too.
/// </summary>
public static class RestoreStatusBudget
{
    /// <summary>The default budget in UTF-8 bytes of camelCase JSON: below the 16 KB cap with room to spare.</summary>
    public const int DefaultMaxBytes = 12 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly Shrink[] Steps =
    [
        new(ParityRows: int.MaxValue, ChangeTables: int.MaxValue, Text: int.MaxValue, Attempts: int.MaxValue, RefusedDecisions: int.MaxValue),
        new(ParityRows: 25, ChangeTables: 20, Text: 500, Attempts: 5, RefusedDecisions: 20),
        new(ParityRows: 10, ChangeTables: 10, Text: 200, Attempts: 3, RefusedDecisions: 5),
        new(ParityRows: 3, ChangeTables: 3, Text: 80, Attempts: 1, RefusedDecisions: 1),
        new(ParityRows: 0, ChangeTables: 0, Text: 40, Attempts: 0, RefusedDecisions: 0),
    ];

    /// <summary>The status as it is published: <paramref name="status"/> shrunk just enough to fit <paramref name="maxBytes"/>.</summary>
    public static RestoreStatus Fit(RestoreStatus status, int maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(status);
        var fitted = status;
        foreach (var shrink in Steps)
        {
            fitted = shrink.Apply(status);
            if (SizeOf(fitted) <= maxBytes)
            {
                return fitted;
            }
        }

        return fitted;
    }

    /// <summary>The size of <paramref name="status"/> as JSON, in UTF-8 bytes.</summary>
    public static int SizeOf(RestoreStatus status) => Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(status, Json));

    private sealed record Shrink(int ParityRows, int ChangeTables, int Text, int Attempts, int RefusedDecisions)
    {
        public RestoreStatus Apply(RestoreStatus status) => status with
        {
            Steps = status.Steps.Select(Step).ToList(),
            Parity = status.Parity is { } parity ? Table(parity) : null,
            Error = Cut(status.Error, Math.Max(Text, 1000)),
            OperatorAction = Cut(status.OperatorAction, Math.Max(Text, 2000)),
            Decisions = status.Decisions is { } decisions ? Decided(decisions) : null,
            Changes = status.Changes is { } changes ? Changed(changes) : null,
        };

        /// <summary>The most changed tables first (the summary is in that order); the totals always stay.</summary>
        private ChangeSummary Changed(ChangeSummary changes) => changes.Tables.Count <= ChangeTables
            ? changes
            : changes with { Tables = changes.Tables.Take(ChangeTables).ToList(), TablesOmitted = changes.TablesOmitted + changes.Tables.Count - ChangeTables };

        private TimelineStep Step(TimelineStep step) => step with
        {
            Detail = Cut(step.Detail, Text),
            Attempts = step.Attempts is { Count: > 0 } attempts && Attempts > 0
                ? attempts.TakeLast(Attempts).Select(a => a with { Reason = Cut(a.Reason, Text)! }).ToList()
                : step.Attempts is { Count: > 0 } ? [] : step.Attempts,
        };

        /// <summary>Failing rows first, then warnings, then passing ones, in the probe's order within each.</summary>
        private ParityReport Table(ParityReport parity)
        {
            if (parity.Rows.Count <= ParityRows)
            {
                return parity;
            }

            var kept = parity.Rows
                .Select((row, index) => (row, index))
                .OrderByDescending(r => r.row.Verdict)
                .ThenBy(r => r.index)
                .Take(ParityRows)
                .OrderBy(r => r.index)
                .Select(r => r.row with { Note = Cut(r.row.Note, Text)! })
                .ToList();
            return parity with { Rows = kept, RowsOmitted = parity.Rows.Count - kept.Count + (parity.RowsOmitted ?? 0) };
        }

        /// <summary>Every accepted decision; the latest refused ones.</summary>
        private List<DecisionRecord> Decided(IReadOnlyList<DecisionRecord> decisions)
        {
            var refused = decisions.Where(d => !d.Accepted).TakeLast(RefusedDecisions).ToHashSet();
            return decisions.Where(d => d.Accepted || refused.Contains(d)).Select(d => d with { Note = Cut(d.Note, Text) }).ToList();
        }

        private static string? Cut(string? text, int max) =>
            text is null || text.Length <= max ? text : string.Concat(text.AsSpan(0, Math.Max(0, max - 1)), "…");
    }
}
