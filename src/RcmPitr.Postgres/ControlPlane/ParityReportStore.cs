using RcmPitr.Workflow.Parity;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>
/// Reads and writes <c>rcm_pitr.parity_reports</c> in the master database: every run's full parity table (one row per
/// run, the latest probe wins). The run's own status keeps only what fits its size budget; the status API shows this.
/// </summary>
public sealed class ParityReportStore(ControlPlaneDatabase master)
{
    private readonly RunReportTable<ParityReport> _table = new(master, "parity_reports", "V005__parity_reports.sql");

    /// <summary>Records the run's report (a re-run of the probe replaces it).</summary>
    public Task WriteAsync(string runId, ParityReport report, CancellationToken cancellationToken) => _table.WriteAsync(runId, report, cancellationToken);

    /// <summary>The run's report, or null when it has none (or the master has no such table yet).</summary>
    public Task<ParityReport?> GetAsync(string runId, CancellationToken cancellationToken) => _table.GetAsync(runId, cancellationToken);
}
