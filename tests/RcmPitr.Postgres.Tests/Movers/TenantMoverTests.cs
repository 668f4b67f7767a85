using Npgsql;
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

        await AssertIdenticalAsync(s, source, target);
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

    [Theory]
    [InlineData(19)]
    [InlineData(0)]
    public async Task MoveAsync_StreamingGinBuildOnThisMachine_StepsBackWhileItRunsUnlessTurnedOff(int yieldNice)
    {
        // The live server is a local cluster (127.0.0.1): its GIN build shares this machine's cores with the relay.
        await using var s = await Scenario.StartAsync(fx);
        s.Mover.YieldCpuBesideGin = yieldNice;
        var source = "tenant_" + s.NewSlug("mv").Replace('-', '_');
        var target = source + "_restore_202604221430";
        await s.ExecAsync(s.Pitr, "postgres", $"CREATE DATABASE {PgQuote.Identifier(source)}");
        await s.ExecAsync(s.Pitr, source, BenchmarkSchema.Sql(sizeMb: 2));
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(target)} TEMPLATE template0");
        var meter = new MoveMeter();

        await new TenantMover(s.Connector, fx.Tools, fx.Processes, s.Mover)
            .MoveAsync(new MoveRequest(s.RunId, s.Pitr, source, s.Live, target, TransferMode.Streaming, Jobs: 2), meter, CancellationToken.None);

        await AssertIdenticalAsync(s, source, target);
        var events = meter.Events.Select(e => e.What).ToList();
        var gin = events.IndexOf("build start index \"claims\".\"claim_payload\"");
        Assert.True(gin >= 0, string.Join('\n', events));
        var yields = events.Where(e => e.StartsWith("cpu yield:", StringComparison.Ordinal)).ToList();
        if (yieldNice == 0)
        {
            Assert.Empty(yields);
            return;
        }

        // The build's own yield: this move lowered the priority, or found a build of another test holding it; never refused.
        Assert.Contains(events.Skip(gin), e => e.StartsWith("cpu yield: nice 19 (was ", StringComparison.Ordinal) || e == "cpu yield: held already (nice 19)" ||
            e == "cpu yield: the session already runs at nice 19" || (!File.Exists(CpuYield.AutogroupPath) && e.StartsWith("cpu yield: not available", StringComparison.Ordinal)) ||
            (e == CpuYield.RootGroupNote && string.IsNullOrWhiteSpace(File.ReadAllText(CpuYield.AutogroupPath))));
        Assert.DoesNotContain(yields, e => e.StartsWith("cpu yield: could not", StringComparison.Ordinal));
        if (yields.FirstOrDefault(e => e.StartsWith("cpu yield: nice 19 (was ", StringComparison.Ordinal)) is { } lowered)
        {
            Assert.Contains($"cpu yield: nice {lowered["cpu yield: nice 19 (was ".Length..lowered.IndexOf(')', StringComparison.Ordinal)]} again", yields);
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

        await AssertIdenticalAsync(s, source, target);
        Assert.Equal(5, result.Tables);
    }

    [Fact]
    public async Task MoveAsync_StreamingConstraintsOfEveryKind_ComeOutWithTheSameDefinitions()
    {
        // Plain primary keys and unique constraints are built as unique indexes and attached; every other kind must keep
        // pg_dump's own statement. The verifier compares pg_get_indexdef / pg_get_constraintdef text, not counts.
        await using var s = await Scenario.StartAsync(fx);
        var source = "tenant_" + s.NewSlug("mv").Replace('-', '_');
        var target = source + "_restore_202604221430";
        await s.ExecAsync(s.Pitr, "postgres", $"CREATE DATABASE {PgQuote.Identifier(source)}");
        await s.ExecAsync(s.Pitr, source, """"
            CREATE SCHEMA "Odd; Schema";
            CREATE TABLE "Odd; Schema"."we;ird ""table""" ("a b" int PRIMARY KEY, code text COLLATE "C" NOT NULL, n int, r tsrange, v jsonb);
            ALTER TABLE "Odd; Schema"."we;ird ""table""" ADD CONSTRAINT code_c UNIQUE (code);
            CREATE TABLE public.deferred (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, k int, inc int,
              CONSTRAINT k_nulls UNIQUE NULLS NOT DISTINCT (k), CONSTRAINT k_inc UNIQUE (k, id) INCLUDE (inc));
            CREATE TABLE public.ranges (id int, during tsrange, EXCLUDE USING gist (during WITH &&));
            CREATE TABLE public.desc_key (a int, b int);
            CREATE UNIQUE INDEX desc_key_idx ON public.desc_key (a DESC, b);
            CREATE TABLE public.clustered (id int PRIMARY KEY);
            ALTER TABLE public.clustered CLUSTER ON clustered_pkey;
            ALTER TABLE public.clustered REPLICA IDENTITY USING INDEX clustered_pkey;
            INSERT INTO public.clustered SELECT generate_series(1, 20);
            CREATE TABLE public.plain_key (k text COLLATE "C" PRIMARY KEY);
            INSERT INTO public.plain_key SELECT 'k' || g FROM generate_series(1, 50) g;
            CREATE TABLE public.child (id int PRIMARY KEY, parent int REFERENCES "Odd; Schema"."we;ird ""table""" ("a b") DEFERRABLE, self int REFERENCES public.child (id));
            CREATE INDEX "partial ix" ON "Odd; Schema"."we;ird ""table""" (n) WHERE n > 10;
            CREATE INDEX v_gin ON "Odd; Schema"."we;ird ""table""" USING gin (v jsonb_path_ops);
            COMMENT ON INDEX "Odd; Schema"."partial ix" IS 'a comment; with
            -- Name: x; Type: INDEX; Schema: y
            in it';
            CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.n := coalesce(NEW.n, 0); RETURN NEW; END$$;
            CREATE TRIGGER touch BEFORE INSERT ON "Odd; Schema"."we;ird ""table""" FOR EACH ROW EXECUTE FUNCTION public.touch();
            INSERT INTO "Odd; Schema"."we;ird ""table""" SELECT g, 'c' || g, g % 20, tsrange('2026-01-01'::timestamp + g * interval '1 day', '2026-01-01'::timestamp + (g + 1) * interval '1 day'), jsonb_build_object('g', g) FROM generate_series(1, 500) g;
            INSERT INTO public.deferred SELECT g, g, g FROM generate_series(1, 100) g;
            INSERT INTO public.ranges SELECT g, tsrange('2026-01-01'::timestamp + g * interval '1 hour', '2026-01-01'::timestamp + (g + 1) * interval '1 hour') FROM generate_series(1, 100) g;
            INSERT INTO public.desc_key SELECT g, g FROM generate_series(1, 100) g;
            INSERT INTO public.child SELECT g, g, CASE WHEN g > 1 THEN g - 1 END FROM generate_series(1, 200) g;
            """");
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(target)} TEMPLATE template0");
        var meter = new MoveMeter();

        await new TenantMover(s.Connector, fx.Tools, fx.Processes, s.Mover)
            .MoveAsync(new MoveRequest(s.RunId, s.Pitr, source, s.Live, target, TransferMode.Streaming, Jobs: 2), meter, CancellationToken.None);

        var expected = await AssertIdenticalAsync(s, source, target);
        Assert.Contains("deferrable=t deferred=t", expected["@constraints"], StringComparison.Ordinal);
        // The plain ones took the attach path; the rest ran as pg_dump wrote them, on open connections (no pg_restore per item).
        var events = meter.Events.Select(e => e.What).ToList();
        void Built(string how, string constraint) =>
            Assert.Contains(events, e => e.StartsWith($"build start {how}constraint {PgQuote.Identifier(constraint)} of ", StringComparison.Ordinal));
        Built("unique index for ", "we;ird \"table\"_pkey");
        Built("unique index for ", "code_c");
        Built(string.Empty, "deferred_pkey");
        Built(string.Empty, "k_nulls");
        Built(string.Empty, "k_inc");
        Built("unique index for ", "plain_key_pkey");
        Built(string.Empty, "clustered_pkey");
        Assert.Contains("clustered=t replident=t", expected["@indexes"], StringComparison.Ordinal);
        Assert.DoesNotContain(events, e => e.Contains("pg_restore -L", StringComparison.Ordinal));
        Assert.False(await s.ScalarAsync<bool>(s.Live, target, "SELECT to_regnamespace('_rcm_pitr_move') IS NOT NULL"));
    }

    [Fact]
    public async Task MoveAsync_StreamingInterruptedAfterSomeTables_ResumeKeepsThemAndCopiesOnlyTheRest()
    {
        await using var s = await Scenario.StartAsync(fx);
        var source = "tenant_" + s.NewSlug("mv").Replace('-', '_');
        var target = source + "_restore_202604221430";
        await s.ExecAsync(s.Pitr, "postgres", $"CREATE DATABASE {PgQuote.Identifier(source)}");
        await s.ExecAsync(s.Pitr, source, BenchmarkSchema.Sql(sizeMb: 8));
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(target)} TEMPLATE template0");
        var request = new MoveRequest(s.RunId, s.Pitr, source, s.Live, target, TransferMode.Streaming, Jobs: 1);
        var mover = new TenantMover(s.Connector, fx.Tools, fx.Processes, s.Mover);

        // One worker copies the biggest table first; stop the move as the next copy starts, that table committed (the worker
        // itself cancels, so the small rest cannot slip through before a watcher would see the first table done).
        using var stop = new CancellationTokenSource();
        MoveMeter? watched = null;
        var first = watched = new MoveMeter
        {
            Noted = what =>
            {
                if (what.StartsWith("copy start ", StringComparison.Ordinal) && watched!.Snapshot().TablesDone > 0)
                {
                    stop.Cancel();
                }
            },
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => mover.MoveAsync(request, first, stop.Token));
        Assert.Equal(1, first.Snapshot().TablesDone);
        var kept = await s.ScalarAsync<long>(s.Live, target, "SELECT coalesce(sum(bytes), 0)::bigint FROM _rcm_pitr_move.pieces WHERE done_at IS NOT NULL");
        var keptPieces = await s.ScalarAsync<long>(s.Live, target, "SELECT count(*) FROM _rcm_pitr_move.pieces WHERE done_at IS NOT NULL AND kind = 'data'");
        var pieces = await s.ScalarAsync<long>(s.Live, target, "SELECT count(*) FROM _rcm_pitr_move.pieces WHERE kind = 'data'");
        var biggest = await s.ScalarAsync<string>(s.Live, target, "SELECT item FROM _rcm_pitr_move.pieces WHERE kind = 'data' ORDER BY position LIMIT 1");
        Assert.True(kept > 0, "the first attempt committed nothing before it was stopped");
        Assert.InRange(keptPieces, 1, pieces - 1);

        var second = new MoveMeter();
        var result = await mover.MoveAsync(request with { Resume = true }, second, CancellationToken.None);

        await AssertIdenticalAsync(s, source, target);
        Assert.Equal((keptPieces, kept), (result.PiecesKept, result.BytesKept));
        Assert.DoesNotContain(second.Events, e => e.What == "copy start " + biggest);

        // Exactly the unfinished work was copied again: a whole move streams the kept bytes plus this attempt's.
        var whole = source + "_asof_202604221430";
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(whole)} TEMPLATE template0");
        var full = await mover.MoveAsync(new MoveRequest(s.RunId, s.Pitr, source, s.Live, whole, TransferMode.Streaming, Jobs: 1), null, CancellationToken.None);
        Assert.Equal(full.BytesMoved, result.BytesMoved + result.BytesKept);
        Assert.False(await s.ScalarAsync<bool>(s.Live, target, "SELECT to_regnamespace('_rcm_pitr_move') IS NOT NULL"));
    }

    [Fact]
    public async Task MoveAsync_ResumedWhileAnEarlierAttemptsSessionStillHoldsALock_EndsTheTargetsOtherSessionsOnlyAndFinishes()
    {
        // An attempt whose host vanished without closing its sockets (a frozen VM, a network partition) leaves its backends
        // on the target, in their transactions, until the server's keepalives notice: the resumed move would wait on them.
        await using var s = await Scenario.StartAsync(fx);
        var ct = TestContext.Current.CancellationToken;
        var source = "tenant_" + s.NewSlug("mv").Replace('-', '_');
        var target = source + "_restore_202604221430";
        var bystanderDatabase = source + "_live";
        await s.ExecAsync(s.Pitr, "postgres", $"CREATE DATABASE {PgQuote.Identifier(source)}");
        await s.ExecAsync(s.Pitr, source, BenchmarkSchema.Sql(sizeMb: 8));
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(target)} TEMPLATE template0");
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(bystanderDatabase)} TEMPLATE template0");
        var request = new MoveRequest(s.RunId, s.Pitr, source, s.Live, target, TransferMode.Streaming, Jobs: 1);
        var mover = new TenantMover(s.Connector, fx.Tools, fx.Processes, s.Mover);
        var first = new MoveMeter();
        using (var stop = new CancellationTokenSource())
        {
            var watcher = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested && first.Snapshot().TablesDone == 0)
                {
                    await Task.Delay(5);
                }

                await stop.CancelAsync();
            }, ct);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => mover.MoveAsync(request, first, stop.Token));
            await watcher;
        }

        var unfinished = await s.ScalarAsync<string>(
            s.Live, target, "SELECT format('%I.%I', schema_name, table_name) FROM _rcm_pitr_move.pieces WHERE kind = 'data' AND done_at IS NULL ORDER BY position LIMIT 1");
        // The earlier attempt's session as a copy left it: in its transaction, holding the table it was loading.
        await using var ghost = await s.Connector.OpenAsync(s.Live, target, ct);
        await using var ghostTransaction = await ghost.BeginTransactionAsync(ct);
        await using (var hold = new NpgsqlCommand($"LOCK TABLE {unfinished} IN ROW EXCLUSIVE MODE", ghost, ghostTransaction))
        {
            await hold.ExecuteNonQueryAsync(ct);
        }

        // A session on another database of the same server, in a transaction too: not the move's, never ended.
        await using var bystander = await s.Connector.OpenAsync(s.Live, bystanderDatabase, ct);
        await using var bystanderTransaction = await bystander.BeginTransactionAsync(ct);
        // An operator looking into the new database under a role of their own: not the move's either.
        var peeker = "peek_" + Guid.NewGuid().ToString("N")[..8];
        await s.ExecAsync(s.Live, "postgres", $"CREATE ROLE {peeker} LOGIN PASSWORD 'peek-secret'");
        var peek = new NpgsqlConnection($"Host={s.Live.Fqdn};Port={s.Live.Port};Database={target};Username={peeker};Password=peek-secret");
        await peek.OpenAsync(ct);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(90));
        var second = new MoveMeter();
        var result = await mover.MoveAsync(request with { Resume = true }, second, deadline.Token);

        await AssertIdenticalAsync(s, source, target);
        Assert.True(result.PiecesKept > 0, "the resumed move kept nothing of the first attempt");
        Assert.Contains(second.Events, e => e.What == "resumed: ended 1 session(s) an earlier attempt left on the target");
        await using (var probe = new NpgsqlCommand("SELECT 1", ghost, ghostTransaction))
        {
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => probe.ExecuteScalarAsync(ct));
        }

        await using (var alive = new NpgsqlCommand("SELECT 1", bystander, bystanderTransaction))
        {
            Assert.Equal(1, await alive.ExecuteScalarAsync(ct));
        }

        await using (var alive = new NpgsqlCommand("SELECT 1", peek))
        {
            Assert.Equal(1, await alive.ExecuteScalarAsync(ct));
        }

        await peek.DisposeAsync();
        await s.ExecAsync(s.Live, "postgres", $"DROP ROLE {peeker}");
    }

    [Fact]
    public async Task MoveAsync_StreamingFromALatin1Database_RunsPgDumpsItemsWithPgRestoreAndVerifies()
    {
        // pg_dump's text of a LATIN1 database is not cut into statements (our connections speak UTF-8): every build goes
        // through pg_restore -L, and the rest of post-data through one pg_restore transaction with its start recorded.
        await using var s = await Scenario.StartAsync(fx);
        var source = "tenant_" + s.NewSlug("mv").Replace('-', '_');
        var target = source + "_restore_202604221430";
        foreach (var (server, name) in new[] { (s.Pitr, source), (s.Live, target) })
        {
            await s.ExecAsync(server, "postgres", $"CREATE DATABASE {PgQuote.Identifier(name)} TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'");
        }

        await s.ExecAsync(s.Pitr, source, BenchmarkSchema.Sql(sizeMb: 2));
        await s.ExecAsync(s.Pitr, source, "COMMENT ON TABLE claims.claim IS 'Réclamations'; CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$; CREATE TRIGGER touch BEFORE INSERT ON members.member FOR EACH ROW EXECUTE FUNCTION public.touch();");
        var meter = new MoveMeter();

        await new TenantMover(s.Connector, fx.Tools, fx.Processes, s.Mover)
            .MoveAsync(new MoveRequest(s.RunId, s.Pitr, source, s.Live, target, TransferMode.Streaming, Jobs: 2), meter, CancellationToken.None);

        await AssertIdenticalAsync(s, source, target);
        Assert.Contains(meter.Events, e => e.What.Contains("each item runs with pg_restore -L", StringComparison.Ordinal));
        Assert.Equal(1L, await s.ScalarAsync<long>(s.Live, target, "SELECT count(*) FROM pg_trigger WHERE tgname = 'touch'"));
        Assert.False(await s.ScalarAsync<bool>(s.Live, target, "SELECT to_regnamespace('_rcm_pitr_move') IS NOT NULL"));
    }

    [Fact]
    public async Task MoveAsync_TargetRefusesSynchronousCommitOff_LoadsWithItsOwnSettingAndVerifies()
    {
        // Azure Database for PostgreSQL lists synchronous_commit as read-only: a session that changes it may be refused.
        await using var s = await Scenario.StartAsync(fx);
        var source = "tenant_" + s.NewSlug("mv").Replace('-', '_');
        await s.ExecAsync(s.Pitr, "postgres", $"CREATE DATABASE {PgQuote.Identifier(source)}");
        await s.ExecAsync(s.Pitr, source, BenchmarkSchema.Sql(sizeMb: 2));
        foreach (var mode in new[] { TransferMode.Streaming, TransferMode.Parallel })
        {
            var target = source + "_restore_20260422143" + (int)mode;
            await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(target)} TEMPLATE template0");
            var refusing = new RefusingSessions();
            var meter = new MoveMeter();

            var result = await new TenantMover(s.Connector, fx.Tools, fx.Processes, s.Mover, refusing)
                .MoveAsync(new MoveRequest(s.RunId, s.Pitr, source, s.Live, target, mode, Jobs: 2), meter, CancellationToken.None);

            Assert.False(result.RelaxedCommit);
            Assert.Equal(1, refusing.Attempts);
            Assert.Contains(meter.Events, e => e.What.Contains("refused synchronous_commit = off", StringComparison.Ordinal));
            await AssertIdenticalAsync(s, source, target);
        }
    }

    /// <summary>Asserts that <paramref name="target"/> on live is identical to <paramref name="source"/> on the PITR server; returns the source's fingerprint.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> AssertIdenticalAsync(Scenario s, string source, string target)
    {
        await using var from = await s.Connector.OpenAsync(s.Pitr, source, CancellationToken.None);
        await using var to = await s.Connector.OpenAsync(s.Live, target, CancellationToken.None);
        var expected = await MoveVerifier.FingerprintAsync(from, CancellationToken.None);
        Assert.Empty(MoveVerifier.Differences(expected, await MoveVerifier.FingerprintAsync(to, CancellationToken.None)));
        return expected;
    }

    /// <summary>A target that refuses the session setting as a managed server with it read-only would (SQLSTATE 55P02).</summary>
    private sealed class RefusingSessions : LoadingSessions
    {
        public int Attempts { get; private set; }

        protected override Task RelaxCommitAsync(Npgsql.NpgsqlConnection target, CancellationToken ct)
        {
            Attempts++;
            throw new Npgsql.PostgresException("parameter \"synchronous_commit\" cannot be changed now", "ERROR", "ERROR", Npgsql.PostgresErrorCodes.CantChangeRuntimeParam);
        }
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
