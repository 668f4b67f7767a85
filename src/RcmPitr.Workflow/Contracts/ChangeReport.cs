namespace RcmPitr.Workflow.Contracts;

/// <summary>
/// Input of the change report: compares the run's restored copy with the tenant's live database (both on the live server),
/// table by table, before the approval gate.
/// </summary>
/// <param name="Copy">Which derived database holds the copy (the <c>_restore_</c> one unless a snapshot).</param>
/// <param name="LiveDatabase">The live database as resolved (it differs from the canonical name after a flip-the-ref cutover).</param>
public sealed record CompareChangesInput(string RunId, DbServerInfo Live, string Tenant, string Stamp, DerivedDatabaseKind Copy, string LiveDatabase);

/// <summary>
/// What the cutover changes, per table: rows only in live (written after the restore time: they leave with the cutover and stay
/// in the kept <c>_pre_pitr_</c> database), rows only in the copy (deleted after the restore time: they come back), and rows in
/// both with different contents. Rows are matched by primary key; a table without one by whole-row hash. Samples hold primary
/// key values only — never other row data.
/// </summary>
/// <param name="Partial">True when the time budget ran out before every table was compared (see <see cref="TableChanges.Partial"/>).</param>
public sealed record ChangeReport(
    string RunId,
    string LiveDatabase,
    string CopyDatabase,
    DateTime ComputedAt,
    double Seconds,
    bool Partial,
    IReadOnlyList<TableChanges> Tables)
{
    /// <summary>Rows only in live, over every table.</summary>
    public long OnlyInLive => Tables.Sum(t => t.OnlyInLive);

    /// <summary>Rows only in the copy, over every table.</summary>
    public long OnlyInCopy => Tables.Sum(t => t.OnlyInCopy);

    /// <summary>Rows in both with different contents, over every table.</summary>
    public long Different => Tables.Sum(t => t.Different);

    /// <summary>Owners and privileges of the copy against live's; null when they were not compared.</summary>
    public PrivilegeComparison? Privileges { get; init; }

    /// <summary>The status's summary: totals and the <paramref name="maxTables"/> most changed tables.</summary>
    public ChangeSummary Summarize(int maxTables = 20)
    {
        var changed = Tables.Where(t => t.Changed)
            .OrderByDescending(t => t.OnlyInLive + t.OnlyInCopy + t.Different)
            .ThenBy(t => t.Table, StringComparer.Ordinal)
            .ToList();
        var shown = changed.Take(Math.Max(0, maxTables))
            .Select(t => new TableChangeCount(t.Table, t.MatchedBy, t.OnlyInLive, t.OnlyInCopy, t.Different, t.Partial))
            .ToList();
        return new ChangeSummary(Partial, Seconds, Tables.Count, changed.Count, OnlyInLive, OnlyInCopy, Different, shown, changed.Count - shown.Count)
        {
            PrivilegeDifferences = Privileges?.Differences.Count,
        };
    }
}

/// <summary>One table's differences.</summary>
/// <param name="Table"><c>schema.table</c>, as the catalog names it.</param>
/// <param name="MatchedBy"><c>primary key</c>; <c>whole-row hash</c> for a table without one (no keys are sampled then);
/// <c>only in live</c> / <c>only in copy</c> for a table that exists on one side only (every row counts there).</param>
/// <param name="KeyColumns">The primary key's columns, in key order (empty when matched by hash).</param>
/// <param name="Partial">True when the comparison stopped at the time budget: the counts are those seen so far.</param>
/// <param name="Samples">Up to the configured number of keys per category, in key order, each key's values as text.</param>
/// <param name="SamplesTruncated">True when a category has more keys than were kept.</param>
public sealed record TableChanges(
    string Table,
    string MatchedBy,
    IReadOnlyList<string> KeyColumns,
    long LiveRows,
    long CopyRows,
    long OnlyInLive,
    long OnlyInCopy,
    long Different,
    bool Partial,
    ChangeSamples Samples,
    bool SamplesTruncated)
{
    /// <summary>True when the cutover changes anything in this table.</summary>
    public bool Changed => OnlyInLive > 0 || OnlyInCopy > 0 || Different > 0 || MatchedBy is TableMatch.OnlyInLive or TableMatch.OnlyInCopy;
}

/// <summary>Sampled primary keys per category; each key is its columns' values as text, in key-column order.</summary>
public sealed record ChangeSamples(
    IReadOnlyList<IReadOnlyList<string?>> OnlyInLive,
    IReadOnlyList<IReadOnlyList<string?>> OnlyInCopy,
    IReadOnlyList<IReadOnlyList<string?>> Different)
{
    /// <summary>No samples.</summary>
    public static ChangeSamples None { get; } = new([], [], []);
}

/// <summary>The values of <see cref="TableChanges.MatchedBy"/>.</summary>
public static class TableMatch
{
#pragma warning disable CS1591 // The names are their own documentation.
    public const string PrimaryKey = "primary key";
    public const string RowHash = "whole-row hash";
    public const string OnlyInLive = "only in live";
    public const string OnlyInCopy = "only in copy";
#pragma warning restore CS1591
}

/// <summary>
/// The change report as the run's status carries it (the full report is in the master database and served by
/// <c>GET /api/restores/{id}/changes</c>): totals and the changed tables' counts, as many as fit the status budget.
/// </summary>
/// <param name="TablesCompared">Tables compared (on either side).</param>
/// <param name="Tables">Changed tables, most changed first: <c>schema.table</c> with its three counts.</param>
/// <param name="TablesOmitted">Changed tables left out of <see cref="Tables"/> to keep the status small.</param>
/// <remarks><see cref="PrivilegeDifferences"/>: objects whose owner or privileges differ between the copy and live (0 after the
/// copy was given live's); null when not compared.</remarks>
public sealed record ChangeSummary(
    bool Partial,
    double Seconds,
    int TablesCompared,
    int TablesChanged,
    long OnlyInLive,
    long OnlyInCopy,
    long Different,
    IReadOnlyList<TableChangeCount> Tables,
    int TablesOmitted = 0)
{
    /// <summary>Objects whose owner or privileges differ between the copy and live; null when not compared.</summary>
    public int? PrivilegeDifferences { get; init; }
}

/// <summary>The change summary as one sentence, for timelines, audit rows and notifications.</summary>
public static class ChangeText
{
    /// <summary>E.g. "2 of 14 tables change: 120 rows written after T leave with the cutover, 4 deleted rows come back, 7 rows differ".</summary>
    public static string Describe(ChangeSummary changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var partial = (changes.Partial ? " (partial: the time budget ran out; counts so far)" : string.Empty) +
            (changes.PrivilegeDifferences is > 0 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; owners or privileges of {changes.PrivilegeDifferences} objects differ from live's") : string.Empty);
        return changes.TablesChanged == 0
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"no differences in {changes.TablesCompared} tables{partial}")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{changes.TablesChanged} of {changes.TablesCompared} tables change: {changes.OnlyInLive} rows written after T leave with the cutover, {changes.OnlyInCopy} deleted rows come back, {changes.Different} rows differ{partial}");
    }
}

/// <summary>One changed table's counts in the <see cref="ChangeSummary"/>.</summary>
public sealed record TableChangeCount(string Table, string MatchedBy, long OnlyInLive, long OnlyInCopy, long Different, bool Partial);
