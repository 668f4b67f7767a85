using System.Globalization;

namespace RcmPitr.Workflow.Parity;

/// <summary>
/// The verdict of runbook step 5 for one canary table, as pure arithmetic.
/// </summary>
/// <remarks>
/// The runbook: "restore counts should be ≤ live for rows created after the restore time. Stop and
/// reconsider if numbers are orders-of-magnitude off, or zero where non-zero is expected."
/// <list type="bullet">
/// <item>restored ≤ live, within <see cref="OrdersOfMagnitudeFactor"/>: <b>pass</b>.</item>
/// <item>restored = 0 while live &gt; 0: <b>fail</b> — the copy is empty where data is expected.</item>
/// <item>live / restored ≥ factor: <b>fail</b> — the copy looks like it lost data.</item>
/// <item>restored &gt; live: <b>warn</b> — rows were deleted after T, which is what a restore of an
/// accidental delete looks like; the approver must confirm it. This includes the orders-of-magnitude
/// case in this direction: failing it would block the very restore a mass delete calls for.</item>
/// <item>the table missing from the restored copy: <b>fail</b>; missing from live only: <b>warn</b>;
/// missing from both: <b>fail</b> (a misconfigured canary list proves nothing).</item>
/// </list>
/// </remarks>
public sealed record ParityRules(double OrdersOfMagnitudeFactor = ParityRules.DefaultFactor)
{
    /// <summary>Two orders of magnitude.</summary>
    public const double DefaultFactor = 100;

    /// <summary>Judges one table.</summary>
    public ParityRow Judge(string table, long? live, long? restored)
    {
        if (OrdersOfMagnitudeFactor <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(OrdersOfMagnitudeFactor), OrdersOfMagnitudeFactor, "must be greater than 1");
        }

        var factor = OrdersOfMagnitudeFactor.ToString("0.##", CultureInfo.InvariantCulture);
        var (verdict, note) = (live, restored) switch
        {
            (null, null) => (ParityVerdict.Fail, "table exists in neither database; check the canary list"),
            (_, null) => (ParityVerdict.Fail, "table is missing from the restored database"),
            (null, _) => (ParityVerdict.Warn, "table is missing from the live database (dropped after T?)"),
            ({ } l, { } r) => JudgeCounts(l, r, factor),
        };
        return new ParityRow(table, live, restored, verdict, note);
    }

    private (ParityVerdict Verdict, string Note) JudgeCounts(long live, long restored, string factor)
    {
        if (live > 0 && restored == 0)
        {
            return (ParityVerdict.Fail, "restored copy is empty where live has rows");
        }

        if (restored > 0 && live >= restored * OrdersOfMagnitudeFactor)
        {
            return (ParityVerdict.Fail, $"live has at least {factor}x the restored rows; the copy looks incomplete");
        }

        if (restored > live)
        {
            return live == 0 || restored >= live * OrdersOfMagnitudeFactor
                ? (ParityVerdict.Warn, $"restored has {restored - live} more rows (at least {factor}x live): live lost most rows after T")
                : (ParityVerdict.Warn, $"restored has {restored - live} more rows: rows were deleted after T");
        }

        return restored == live
            ? (ParityVerdict.Pass, "equal")
            : (ParityVerdict.Pass, $"live has {live - restored} rows written after T");
    }
}
