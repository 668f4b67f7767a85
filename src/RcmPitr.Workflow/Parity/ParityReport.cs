namespace RcmPitr.Workflow.Parity;

/// <summary>The full parity table: every number the verdict was drawn from, and the overall verdict (the worst row).</summary>
/// <param name="RowsOmitted">
/// In a run's status only: how many rows (all of them passing unless the status had to shrink further) were left out to keep
/// the status within its size budget; the full table is in the master database and the status API shows it. Null when
/// every row is here.
/// </param>
public sealed record ParityReport(
    string LiveDatabase,
    string RestoredDatabase,
    IReadOnlyList<ParityRow> Rows,
    ParityVerdict Verdict,
    int? RowsOmitted = null)
{
    /// <summary>Builds the report; the overall verdict is the worst of its rows.</summary>
    public static ParityReport From(string liveDatabase, string restoredDatabase, IReadOnlyList<ParityRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var verdict = rows.Count == 0 ? ParityVerdict.Fail : rows.Max(r => r.Verdict);
        return new ParityReport(liveDatabase, restoredDatabase, rows, verdict);
    }
}
