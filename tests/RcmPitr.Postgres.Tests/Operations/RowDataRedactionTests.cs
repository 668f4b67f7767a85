using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Postgres.Tests.Operations;

/// <summary>
/// Invariant 10: a row the copy rejects is reported by PostgreSQL with its values (PHI). None of them may leave
/// through the exception, the activity's failure, the progress row or the logs; the tool and the object stay named.
/// </summary>
public sealed class RowDataRedactionTests(ClusterFixture fx)
{
    [Theory]
    [InlineData(PhiTrapKind.UniqueIndex)]
    [InlineData(PhiTrapKind.Check)]
    [InlineData(PhiTrapKind.Raise)]
    [InlineData(PhiTrapKind.Cast)]
    public async Task LoadAsync_RowRejectedInTheCopy_NoRowDataInTheFailureOrLogs(PhiTrapKind kind)
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        var marker = await PhiTrap.AddAsync(s, tenant.DatabaseName, kind);
        var dump = await s.Dumper.DumpAsync(new DumpTenantInput(s.RunId, s.Pitr, slug, TestData.Stamp), CancellationToken.None);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => s.Loader.LoadAsync(RestoreDatabaseLoaderTests.Input(s, slug, dump), CancellationToken.None));

        var failure = ActivityFailureDetails.FromException(error);
        PhiTrap.AssertAbsent(marker, ("the exception", error.ToString()), ("the activity failure", failure.ToString()), ("the logs", s.Logs.All));
        Assert.Contains("pg_restore", failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(PhiTrap.Table, failure.ErrorMessage, StringComparison.Ordinal);
        Assert.True(failure.IsRefusal, "a row the copy rejects is rejected again on every attempt");
    }

    [Theory]
    [InlineData(TransferMode.Streaming, PhiTrapKind.UniqueIndex)]
    [InlineData(TransferMode.Streaming, PhiTrapKind.Raise)]
    [InlineData(TransferMode.Streaming, PhiTrapKind.Cast)]
    [InlineData(TransferMode.Parallel, PhiTrapKind.Check)]
    public async Task MoveAsync_RowRejectedInTheCopy_NoRowDataInTheFailureProgressOrLogs(TransferMode mode, PhiTrapKind kind)
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 3);
        var marker = await PhiTrap.AddAsync(s, tenant.DatabaseName, kind);

        var error = await Assert.ThrowsAnyAsync<Exception>(
            () => s.Transfer.MoveAsync(new MoveTenantInput(s.RunId, s.Pitr, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.Restore, mode), CancellationToken.None));

        var failure = ActivityFailureDetails.FromException(error);
        var progress = await new TransferProgressStore(s.Master).GetAsync(s.RunId, CancellationToken.None);
        Assert.Equal("failed", progress!.Phase);
        Assert.False(string.IsNullOrWhiteSpace(progress.Error));
        PhiTrap.AssertAbsent(
            marker,
            ("the exception", error.ToString()),
            ("the activity failure", failure.ToString()),
            ("the progress row", progress.Error),
            ("the logs", s.Logs.All));
        Assert.Contains(PhiTrap.Table, failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(PhiTrap.Table, progress.Error, StringComparison.Ordinal);
    }
}
