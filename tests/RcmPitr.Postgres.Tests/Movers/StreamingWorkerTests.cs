using Npgsql;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Tests.Fixtures;

namespace RcmPitr.Postgres.Tests.Movers;

/// <summary>The session settings the streaming move's builds run with, on a real server.</summary>
public sealed class StreamingWorkerTests(ClusterFixture fx)
{
    [Fact]
    public async Task BuildSettings_BesideAGinBuildThenNot_TakesNoParallelWorkersThenTheServersAgain()
    {
        await using var s = await Scenario.StartAsync(fx);
        await using var session = await s.Connector.OpenAsync(s.Live, "postgres", TestContext.Current.CancellationToken);
        var serverDefault = await ShowAsync(session);

        await ExecuteAsync(session, StreamingWorker.BuildSettings(64, besideGin: true));
        var beside = (await ShowAsync(session), await ShowAsync(session, "maintenance_work_mem"));
        // The same session's next build, once no GIN build is left (or the GIN build itself).
        await ExecuteAsync(session, StreamingWorker.BuildSettings(256, besideGin: false));
        var after = (await ShowAsync(session), await ShowAsync(session, "maintenance_work_mem"));

        Assert.NotEqual("0", serverDefault);
        Assert.Equal(("0", "64MB"), beside);
        Assert.Equal((serverDefault, "256MB"), after);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<string> ShowAsync(NpgsqlConnection connection, string setting = "max_parallel_maintenance_workers")
    {
        await using var command = new NpgsqlCommand("SELECT current_setting($1)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = setting });
        return (string)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
