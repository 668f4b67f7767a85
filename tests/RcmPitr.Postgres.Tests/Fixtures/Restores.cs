using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Tests.Fixtures;

internal static class Restores
{
    /// <summary>Dump from the pitr server and load into the live server's suffixed database: runbook steps 3 and 4.</summary>
    public static async Task<RestoreDatabaseResult> DumpAndLoadAsync(Scenario s, string slug, string? runId = null, DerivedDatabaseKind target = DerivedDatabaseKind.Restore)
    {
        var run = runId ?? s.RunId;
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(run, s.Pitr, slug, TestData.Stamp), CancellationToken.None);
        return await s.Loader.LoadAsync(new RestoreDatabaseInput(run, s.Live, slug, TestData.Stamp, dump.DumpPath, dump.Sha256, target), CancellationToken.None);
    }
}
