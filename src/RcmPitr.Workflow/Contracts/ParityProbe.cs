namespace RcmPitr.Workflow.Contracts;

/// <summary>Input of the parity probe (runbook step 5).</summary>
/// <param name="RestoredDatabase">Which derived database holds the copy (the <c>_restore_</c> one unless a snapshot).</param>
/// <param name="CanaryTables"><c>schema.table</c> names; null means the runbook's three.</param>
/// <param name="OrdersOfMagnitudeFactor">Ratio at which counts count as orders of magnitude apart.</param>
public sealed record ParityProbeInput(
    string RunId,
    DbServerInfo Live,
    string Tenant,
    string Stamp,
    DerivedDatabaseKind RestoredDatabase = DerivedDatabaseKind.Restore,
    IReadOnlyList<string>? CanaryTables = null,
    double OrdersOfMagnitudeFactor = 100,
    string? LiveDatabase = null);
