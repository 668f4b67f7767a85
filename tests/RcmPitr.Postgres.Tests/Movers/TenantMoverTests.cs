using RcmPitr.Cli.Bench;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Tests.Movers;

public sealed class TenantMoverTests(ClusterFixture fx)
{
    [Theory]
    [InlineData(TransferMode.Runbook)]
    [InlineData(TransferMode.Parallel)]
    [InlineData(TransferMode.Streaming)]
    public async Task MoveAsync_EveryMode_ProducesAnIdenticalDatabase(TransferMode mode)
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug("mv");
        var source = "tenant_" + slug.Replace('-', '_');
        var target = source + "_restore_202604221430";
        await s.ExecAsync(s.Pitr, "postgres", $"CREATE DATABASE {PgQuote.Identifier(source)}");
        await s.ExecAsync(s.Pitr, source, BenchmarkSchema.Sql(sizeMb: 2));
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(target)} TEMPLATE template0");
        var meter = new MoveMeter();

        var result = await new TenantMover(s.Connector, fx.Tools, fx.Processes, s.Mover)
            .MoveAsync(new MoveRequest(s.RunId, s.Pitr, source, s.Live, target, mode, Jobs: 2), meter, CancellationToken.None);

        await using var from = await s.Connector.OpenAsync(s.Pitr, source, CancellationToken.None);
        await using var to = await s.Connector.OpenAsync(s.Live, target, CancellationToken.None);
        var differences = MoveVerifier.Differences(await MoveVerifier.FingerprintAsync(from, CancellationToken.None), await MoveVerifier.FingerprintAsync(to, CancellationToken.None));
        Assert.Empty(differences);
        Assert.True(result.BytesMoved > 0);
        var progress = meter.Snapshot();
        Assert.Equal(MovePhases.Done, progress.Phase);
        Assert.Equal(result.BytesMoved, progress.BytesMoved);
        Assert.False(Directory.Exists(Path.Combine(s.Mover.RunDirectory(s.RunId), "move-" + mode.ToString().ToLowerInvariant())));
        if (mode == TransferMode.Streaming)
        {
            Assert.Equal(5, result.Tables);
            Assert.Equal(5, progress.TablesDone);
            Assert.Equal(5, progress.TablesTotal);
            Assert.True(result.PeakScratchBytes < 100_000, $"streaming wrote {result.PeakScratchBytes} scratch bytes");
        }
    }

    [Fact]
    public async Task MoveAsync_StreamingWithTablesSplitIntoPageRanges_ProducesAnIdenticalDatabase()
    {
        await using var s = await Scenario.StartAsync(fx);
        s.Mover.SplitTablesFromMb = 0;
        var slug = s.NewSlug("mv");
        var source = "tenant_" + slug.Replace('-', '_');
        var target = source + "_restore_202604221430";
        await s.ExecAsync(s.Pitr, "postgres", $"CREATE DATABASE {PgQuote.Identifier(source)}");
        await s.ExecAsync(s.Pitr, source, BenchmarkSchema.Sql(sizeMb: 4));
        // Rows added after deletes land in reused space and at the end: every page range must still be read once.
        await s.ExecAsync(s.Pitr, source, "DELETE FROM claims.claim_event WHERE claim_id % 5 = 0");
        await s.ExecAsync(s.Pitr, source, "VACUUM claims.claim_event");
        await s.ExecAsync(s.Pitr, source, "INSERT INTO claims.claim_event SELECT claim_id + 10000000, seq, code, at FROM claims.claim_event WHERE claim_id % 7 = 0");
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(target)} TEMPLATE template0");

        var result = await new TenantMover(s.Connector, fx.Tools, fx.Processes, s.Mover)
            .MoveAsync(new MoveRequest(s.RunId, s.Pitr, source, s.Live, target, TransferMode.Streaming, Jobs: 3), null, CancellationToken.None);

        await using var from = await s.Connector.OpenAsync(s.Pitr, source, CancellationToken.None);
        await using var to = await s.Connector.OpenAsync(s.Live, target, CancellationToken.None);
        Assert.Empty(MoveVerifier.Differences(await MoveVerifier.FingerprintAsync(from, CancellationToken.None), await MoveVerifier.FingerprintAsync(to, CancellationToken.None)));
        Assert.Equal(5, result.Tables);
    }

    [Fact]
    public async Task Verifier_DifferentContent_IsReported()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug("mv");
        var a = "tenant_" + slug.Replace('-', '_');
        var b = a + "_asof_202604221430";
        foreach (var name in new[] { a, b })
        {
            await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(name)}");
            await s.ExecAsync(s.Live, name, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'x'), (2, 'y');");
        }

        await s.ExecAsync(s.Live, b, "UPDATE t SET v = 'z' WHERE id = 2");
        await using var first = await s.Connector.OpenAsync(s.Live, a, CancellationToken.None);
        await using var second = await s.Connector.OpenAsync(s.Live, b, CancellationToken.None);

        var differences = MoveVerifier.Differences(await MoveVerifier.FingerprintAsync(first, CancellationToken.None), await MoveVerifier.FingerprintAsync(second, CancellationToken.None));

        Assert.Equal(["public.t"], differences);
    }
}
