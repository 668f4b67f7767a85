using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Tests.Fixtures;

namespace RcmPitr.Postgres.Tests.ControlPlane;

/// <summary>The transfer's progress row in a real master, with and without the estimate's columns (V010).</summary>
public sealed class TransferProgressStoreTests(ClusterFixture fx)
{
    private static readonly DateTimeOffset At = new(2026, 4, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task WriteThenGet_TotalThroughputAndEstimate_RoundTrip()
    {
        await using var s = await Scenario.StartAsync(fx);
        var store = new TransferProgressStore(s.Master);
        var running = Row(s.RunId, "data") with { BytesTotal = 1019L * 1048576, BytesPerSecond = 61.3 * 1048576, EstimatedFinishAt = At.AddSeconds(10) };

        await store.WriteAsync(running, CancellationToken.None);
        var read = await store.GetAsync(s.RunId, CancellationToken.None);
        // The upsert clears what the later phase no longer knows.
        await store.WriteAsync(running with { Phase = "indexes", EstimatedFinishAt = null }, CancellationToken.None);
        var later = await store.GetAsync(s.RunId, CancellationToken.None);
        await store.WriteAsync(Row(s.RunId, "schema"), CancellationToken.None);
        var unknown = await store.GetAsync(s.RunId, CancellationToken.None);

        Assert.Equal(running, read);
        Assert.Equal(("indexes", (DateTimeOffset?)null, 61.3 * 1048576), (later!.Phase, later.EstimatedFinishAt, later.BytesPerSecond!.Value));
        Assert.Equal((0L, (double?)null, (DateTimeOffset?)null), (unknown!.BytesTotal, unknown.BytesPerSecond, unknown.EstimatedFinishAt));
        Assert.True(await s.MasterScalarAsync<bool>("SELECT bytes_total IS NULL FROM rcm_pitr.transfer_progress WHERE run_id = $1", s.RunId));
    }

    [Fact]
    public async Task WriteThenGet_MasterWithoutTheEstimatesColumns_KeepsTheProgress()
    {
        await using var s = await Scenario.StartAsync(fx);
        await s.ExecMasterAsync("ALTER TABLE rcm_pitr.transfer_progress DROP COLUMN bytes_total, DROP COLUMN bytes_per_second, DROP COLUMN estimated_finish_at");
        var store = new TransferProgressStore(s.Master);

        await store.WriteAsync(Row(s.RunId, "data") with { BytesTotal = 100, BytesPerSecond = 10, EstimatedFinishAt = At }, CancellationToken.None);
        var read = await store.GetAsync(s.RunId, CancellationToken.None);

        Assert.Equal(Row(s.RunId, "data"), read);
    }

    private static TransferProgress Row(string runId, string phase) =>
        new(runId, "streaming", phase, 2, 5, 412L * 1048576, At.AddMinutes(-1), At, At, null);
}
