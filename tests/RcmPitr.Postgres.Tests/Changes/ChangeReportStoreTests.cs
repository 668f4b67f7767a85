using Npgsql;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Tests.Changes;

public sealed class ChangeReportStoreTests(ClusterFixture fx)
{
    [Fact]
    public async Task WriteAsync_ThenGetAsync_RoundTripsAndARerunReplaces()
    {
        await using var s = await Scenario.StartAsync(fx);
        var store = new ChangeReportStore(s.Master);
        var first = Report(s.RunId, onlyInLive: 3);
        var second = Report(s.RunId, onlyInLive: 9);

        await store.WriteAsync(s.RunId, first, CancellationToken.None);
        var read = await store.GetAsync(s.RunId, CancellationToken.None);
        await store.WriteAsync(s.RunId, second, CancellationToken.None);
        var reread = await store.GetAsync(s.RunId, CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal((first.RunId, first.LiveDatabase, first.CopyDatabase, first.ComputedAt, first.Seconds, first.Partial), (read.RunId, read.LiveDatabase, read.CopyDatabase, read.ComputedAt, read.Seconds, read.Partial));
        var table = Assert.Single(read.Tables);
        var expected = first.Tables[0];
        Assert.Equal((expected.Table, expected.MatchedBy, expected.LiveRows, expected.CopyRows, expected.OnlyInLive, expected.OnlyInCopy, expected.Different, expected.Partial, expected.SamplesTruncated),
            (table.Table, table.MatchedBy, table.LiveRows, table.CopyRows, table.OnlyInLive, table.OnlyInCopy, table.Different, table.Partial, table.SamplesTruncated));
        Assert.Equal(expected.KeyColumns, table.KeyColumns);
        Assert.Equal(expected.Samples.OnlyInLive, table.Samples.OnlyInLive);
        Assert.Equal(expected.Samples.Different, table.Samples.Different);
        Assert.Equal(9L, reread!.OnlyInLive);
        Assert.Equal(1L, await s.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.change_reports WHERE run_id = $1", s.RunId));
    }

    [Fact]
    public async Task GetAsync_NoReport_ReturnsNull()
    {
        await using var s = await Scenario.StartAsync(fx);

        Assert.Null(await new ChangeReportStore(s.Master).GetAsync("run-none", CancellationToken.None));
    }

    [Fact]
    public async Task GetAsync_MasterWithoutTheTable_ReturnsNull()
    {
        fx.RequirePostgres();
        var database = "master_bare_" + Guid.NewGuid().ToString("N")[..10];
        await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {PgQuote.Identifier(database)}");
        try
        {
            var builder = new NpgsqlConnectionStringBuilder
            {
                Host = fx.Live.Host, Port = fx.Live.Port, Username = fx.Live.Options.SuperUser, Password = fx.Live.Options.Password, Database = database, Pooling = false,
            };
            await using var master = new ControlPlaneDatabase(NpgsqlDataSource.Create(builder.ConnectionString));

            Assert.Null(await new ChangeReportStore(master).GetAsync("run-x", CancellationToken.None));
        }
        finally
        {
            await using var maintenance = await fx.Connector.OpenMaintenanceAsync(fx.LiveServer, CancellationToken.None);
            await new ServerCatalog(maintenance).DropIfExistsAsync(database, CancellationToken.None);
        }
    }

    private static ChangeReport Report(string runId, long onlyInLive) => new(
        runId, "tenant_acme", "tenant_acme_restore_20260422143010_3fa9c2", new DateTime(2026, 4, 22, 14, 40, 0, DateTimeKind.Utc), 1.25, false,
        [new TableChanges("members.member", TableMatch.PrimaryKey, ["id"], 100, 98, onlyInLive, 1, 2, false,
            new ChangeSamples([["101"], ["102"]], [["7"]], [["3"], ["4"]]), false)]);
}
