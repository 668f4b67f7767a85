namespace RcmPitr.Workflow.Parity;

/// <summary>The full parity table: every number the verdict was drawn from, and the overall verdict (the worst row).</summary>
public sealed record ParityReport(
    string LiveDatabase,
    string RestoredDatabase,
    IReadOnlyList<ParityRow> Rows,
    ParityVerdict Verdict)
{
    /// <summary>Builds the report; the overall verdict is the worst of its rows.</summary>
    public static ParityReport From(string liveDatabase, string restoredDatabase, IReadOnlyList<ParityRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var verdict = rows.Count == 0 ? ParityVerdict.Fail : rows.Max(r => r.Verdict);
        return new ParityReport(liveDatabase, restoredDatabase, rows, verdict);
    }
}
