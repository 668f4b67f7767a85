using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Changes;

/// <summary>
/// The change report step: compares the run's restored copy with the tenant's live database on the live server
/// (<see cref="TenantChangeComparer"/>), keeps the full report in the master database (<see cref="ChangeReportStore"/>) and
/// returns the summary the run's status carries. Read-only on both databases; a re-run replaces the stored report.
/// </summary>
public sealed class ChangeReporter(TenantChangeComparer comparer, ChangeReportStore store, Connections.PgConnector connector)
{
    /// <summary>Changed tables the status summary names (the most changed first); the API serves them all.</summary>
    public const int SummaryTables = 20;

    /// <summary>Compares, stores and summarizes.</summary>
    public async Task<ChangeSummary> CompareAsync(CompareChangesInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var names = TenantDatabaseNames.For(TenantSlug.Parse(input.Tenant));
        var copy = input.Copy switch
        {
            DerivedDatabaseKind.Restore or DerivedDatabaseKind.AsOf => names.Derived(input.Copy, RestoreStamp.Parse(input.Stamp), input.RunId),
            _ => throw new InvalidRestoreInputException("copy", $"the change report compares a restore or as-of copy, not {input.Copy}"),
        };
        var live = names.OwnOrCanonical(input.LiveDatabase, "liveDatabase");
        var report = await comparer.CompareAsync(input.RunId, input.Live, live, copy, cancellationToken) with
        {
            Privileges = await Operations.LiveOwnership.CompareAsync(connector, input.Live, live, copy, cancellationToken),
        };
        await store.WriteAsync(input.RunId, report, cancellationToken);
        return report.Summarize(SummaryTables);
    }
}
