using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// Reads and writes <c>rcm_pitr.change_reports</c> in the master database: every run's full change report (one row per
/// run, the latest comparison wins). The run's own status keeps only its <see cref="ChangeSummary"/>; the status API
/// shows this. The report holds table names, counts and sampled primary-key values — no other row data.
/// </summary>
public sealed class ChangeReportStore(ControlPlaneDatabase master)
{
    private readonly RunReportTable<ChangeReport> _table = new(master, "change_reports", "V008__change_reports.sql");

    /// <summary>Records the run's report (a re-run of the comparison replaces it).</summary>
    public Task WriteAsync(string runId, ChangeReport report, CancellationToken cancellationToken) => _table.WriteAsync(runId, report, cancellationToken);

    /// <summary>The run's report, or null when it has none (or the master has no such table yet).</summary>
    public Task<ChangeReport?> GetAsync(string runId, CancellationToken cancellationToken) => _table.GetAsync(runId, cancellationToken);
}
