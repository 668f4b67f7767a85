using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Postgres.Tests.Operations;

/// <summary>
/// A pg tool that loses its server (a restart, a failover, an administrator ending its session) has met a passing
/// fault: the step must be retried, not refused, or compensation deletes a restored server that took an hour to
/// provision. A deterministic failure stays a refusal.
/// </summary>
public sealed class ToolInterruptionTests(ClusterFixture fx)
{
    [Fact]
    public async Task LoadAsync_PgRestoreSessionTerminatedMidway_FailsAsRetryableAndARetryLoads()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        await TestData.AddFillerAsync(s, s.Pitr, tenant.DatabaseName);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);
        var target = TenantDatabaseNames.For(TenantSlug.Parse(slug)).Restore(RestoreStamp.Parse(TestData.Stamp), s.RunId);

        var loading = s.Loader.LoadAsync(RestoreDatabaseLoaderTests.Input(s, slug, dump), CancellationToken.None);
        var terminated = await TerminateCopyIntoAsync(s, target, loading);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => loading);

        Assert.True(terminated, "pg_restore finished before its session could be terminated; make the filler larger");
        var failure = ActivityFailureDetails.FromException(error);
        Assert.IsNotAssignableFrom<RcmPitrException>(error);
        Assert.False(failure.IsRefusal, failure.ToString());
        Assert.True(RetryPolicy.IsRetryable(failure));
        Assert.Contains("pg_restore", failure.ErrorMessage, StringComparison.Ordinal);

        var retry = await s.Loader.LoadAsync(RestoreDatabaseLoaderTests.Input(s, slug, dump), CancellationToken.None);

        Assert.Equal(600_000L, await s.ScalarAsync<long>(s.Live, retry.DatabaseName, "SELECT count(*) FROM claims.claim_line"));
    }

    [Fact]
    public async Task DumpAsync_ServerNotAcceptingConnections_FailsAsRetryable()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        var gone = s.Pitr with { Port = LocalCluster.FreeLoopbackPort() };

        var error = await Assert.ThrowsAnyAsync<Exception>(
            () => s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, gone, slug, TestData.Stamp), CancellationToken.None));

        var failure = ActivityFailureDetails.FromException(error);
        Assert.IsNotAssignableFrom<RcmPitrException>(error);
        Assert.False(failure.IsRefusal, failure.ToString());
        Assert.Contains("pg_dump", failure.ErrorMessage, StringComparison.Ordinal);
    }

    /// <summary>Ends the session copying rows into <paramref name="database"/> once it is seen; false if the load ended first.</summary>
    private static async Task<bool> TerminateCopyIntoAsync(Scenario s, string database, Task loading)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!loading.IsCompleted)
        {
            var ended = await s.ScalarAsync<long>(
                s.Live,
                "postgres",
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE 'COPY %') t",
                database);
            if (ended > 0)
            {
                return true;
            }

            await Task.Delay(20, timeout.Token);
        }

        return false;
    }
}
