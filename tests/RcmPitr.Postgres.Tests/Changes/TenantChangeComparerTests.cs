using System.Diagnostics;
using System.Text.Json;
using RcmPitr.Postgres.Changes;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Changes;

/// <summary>
/// The change report against a real server: a live database, its copy taken with <c>CREATE DATABASE … TEMPLATE</c>, then
/// live edited; every count is exact.
/// </summary>
public sealed class TenantChangeComparerTests(ClusterFixture fx)
{
    private const string Secret = "PHI-SECRET-0f7a";

    [Fact]
    public async Task CompareAsync_InsertsDeletesAndUpdatesAfterTheCopy_CountsEachExactly()
    {
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.visit (id bigint PRIMARY KEY, note text NOT NULL, n int NOT NULL); " +
            "INSERT INTO public.visit SELECT g, 'note ' || g, g FROM generate_series(1, 1000) g;");
        await pair.EditLiveAsync(
            "INSERT INTO public.visit SELECT g, 'new', 0 FROM generate_series(2001, 2007) g; " +
            "DELETE FROM public.visit WHERE id IN (10, 20, 30, 40, 50); " +
            "UPDATE public.visit SET note = 'changed' WHERE id IN (5, 6, 7); " +
            "UPDATE public.visit SET n = n WHERE id = 8;");

        var report = await Compare(pair);

        var visit = report.Tables.Single(t => t.Table == "public.visit");
        Assert.Equal(TableMatch.PrimaryKey, visit.MatchedBy);
        Assert.Equal(["id"], visit.KeyColumns);
        Assert.Equal((1002L, 1000L, 7L, 5L, 3L), (visit.LiveRows, visit.CopyRows, visit.OnlyInLive, visit.OnlyInCopy, visit.Different));
        Assert.Equal(Keys("2001", "2002", "2003", "2004", "2005", "2006", "2007"), visit.Samples.OnlyInLive);
        Assert.Equal(Keys("10", "20", "30", "40", "50"), visit.Samples.OnlyInCopy);
        Assert.Equal(Keys("5", "6", "7"), visit.Samples.Different);
        Assert.False(visit.SamplesTruncated);
        Assert.False(report.Partial);
        Assert.Equal((7L, 5L, 3L), (report.OnlyInLive, report.OnlyInCopy, report.Different));
    }

    [Fact]
    public async Task CompareAsync_NothingChanged_ReportsNoChange()
    {
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.visit (id int PRIMARY KEY, at timestamptz NOT NULL, amount numeric, f float8, b bytea); " +
            "INSERT INTO public.visit SELECT g, timestamptz '2026-01-01' + g * interval '1 hour', g / 7.0, g / 3.0, decode(md5(g::text), 'hex') FROM generate_series(1, 500) g;");

        var report = await Compare(pair);

        Assert.False(report.Tables.Single().Changed);
        Assert.Equal(500L, report.Tables.Single().LiveRows);
    }

    [Fact]
    public async Task CompareAsync_LiveDatabaseHasItsOwnTimeZoneAndDateStyle_RowsStillEqual()
    {
        // pg_dump does not carry ALTER DATABASE … SET to the copy: row text must not depend on the session's settings.
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.visit (id int PRIMARY KEY, at timestamptz NOT NULL, d date NOT NULL); " +
            "INSERT INTO public.visit SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour', date '2026-01-01' + g FROM generate_series(1, 50) g;");
        await fx.ExecAsync(fx.LiveServer, "postgres", $"ALTER DATABASE {PgQuote.Identifier(pair.Live)} SET TimeZone = 'America/New_York'");
        await fx.ExecAsync(fx.LiveServer, "postgres", $"ALTER DATABASE {PgQuote.Identifier(pair.Live)} SET DateStyle = 'SQL, DMY'");

        var report = await Compare(pair);

        Assert.Equal(0L, report.Tables.Single().Different);
    }

    [Fact]
    public async Task CompareAsync_ChangesOnlyTheTextShows_CountedAsDifferent()
    {
        // Each edit keeps the value equal by its type's equality (and hash), but not its text: 1.0 = 1.00, -0 = 0,
        // '1 day' = '24 hours', jsonb numbers by value, a case-insensitive collation. A cutover still changes them.
        await using var pair = await Pair.StartAsync(fx,
            "CREATE COLLATION public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false); " +
            "CREATE TABLE public.measure (id int PRIMARY KEY, n numeric, f float8, i interval, j jsonb, name text COLLATE public.ci, fixed numeric(8, 2)); " +
            "INSERT INTO public.measure SELECT g, 1.0, 0, interval '1 day', '{\"a\": 1.0}', 'Smith', 2.5 FROM generate_series(1, 7) g; " +
            "CREATE TABLE public.loose (n numeric); INSERT INTO public.loose VALUES (1.0), (2.0);");
        await pair.EditLiveAsync(
            "UPDATE public.measure SET n = 1.00 WHERE id = 1; UPDATE public.measure SET f = '-0' WHERE id = 2; " +
            "UPDATE public.measure SET i = interval '24 hours' WHERE id = 3; UPDATE public.measure SET j = '{\"a\": 1.00}' WHERE id = 4; " +
            "UPDATE public.measure SET name = 'SMITH' WHERE id = 5; UPDATE public.measure SET fixed = 2.50 WHERE id = 6; " +
            "UPDATE public.loose SET n = 1.000 WHERE n = 1;");

        var report = await Compare(pair);

        var measure = report.Tables.Single(t => t.Table == "public.measure");
        Assert.Equal(Keys("1", "2", "3", "4", "5"), measure.Samples.Different);
        Assert.Equal(5L, measure.Different);
        var loose = report.Tables.Single(t => t.Table == "public.loose");
        Assert.Equal((1L, 1L), (loose.OnlyInLive, loose.OnlyInCopy));
    }

    [Fact]
    public async Task CompareAsync_TableWithoutPrimaryKey_ComparesRowsAsAMultisetWithDuplicates()
    {
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.log (a int, b text); " +
            "INSERT INTO public.log VALUES (1, 'x'), (1, 'x'), (1, 'x'), (2, 'y'), (3, 'z'), (3, 'z'), (5, NULL);");
        await pair.EditLiveAsync(
            "DELETE FROM public.log WHERE ctid = (SELECT min(ctid) FROM public.log WHERE a = 1); " +
            "INSERT INTO public.log VALUES (2, 'y'), (4, 'w'); " +
            "UPDATE public.log SET b = 'zz' WHERE ctid = (SELECT min(ctid) FROM public.log WHERE a = 3);");

        var report = await Compare(pair);

        var log = report.Tables.Single();
        Assert.Equal(TableMatch.RowHash, log.MatchedBy);
        Assert.Empty(log.KeyColumns);
        Assert.Equal((8L, 7L, 3L, 2L, 0L), (log.LiveRows, log.CopyRows, log.OnlyInLive, log.OnlyInCopy, log.Different));
        Assert.Equal(ChangeSamples.None.OnlyInLive, log.Samples.OnlyInLive);
        Assert.Empty(log.Samples.OnlyInCopy);
    }

    [Fact]
    public async Task CompareAsync_CompositeTextKeysWithMixedCaseAccentsAndEmoji_MatchesInTheServersOrder()
    {
        // The key column sorts by an ICU collation ('a' < 'B' < 'é'): an ORDER BY in the column's own collation would not
        // be the client's order and the merge would report phantom rows on both sides.
        var collation = await fx.ScalarAsync<string>(fx.LiveServer, "postgres",
            "SELECT coalesce((SELECT collname FROM pg_collation WHERE collname IN ('en-x-icu', 'und-x-icu') ORDER BY collname LIMIT 1), 'C')");
        await using var pair = await Pair.StartAsync(fx,
            $"CREATE TABLE public.code (region text COLLATE {PgQuote.Identifier(collation)}, code varchar(20), seq int, label text NOT NULL, PRIMARY KEY (region, code, seq)); " +
            "INSERT INTO public.code SELECT r, c, s, 'label ' || r || c || s " +
            "  FROM unnest(ARRAY['a', 'B', 'b', 'É', 'é', 'e', 'Z', 'ß', 'Ø', '日本', '😀', '\uFFFD', 'ab', 'a b', 'A']) r, " +
            "       unnest(ARRAY['x', 'X', 'ñ', 'n', '10', '9']) c, generate_series(1, 12) s;");
        await pair.EditLiveAsync(
            "INSERT INTO public.code VALUES ('é', 'Ñ', 1, 'new'), ('😀', '😀', 2, 'new'); " +
            "DELETE FROM public.code WHERE region = 'B' AND code = 'ñ' AND seq IN (3, 11); DELETE FROM public.code WHERE region = '\uFFFD' AND code = '9' AND seq = 1; " +
            "UPDATE public.code SET label = 'changed' WHERE region IN ('Ø', 'a b') AND code = 'X' AND seq = 10;");

        var report = await Compare(pair);

        var code = report.Tables.Single();
        Assert.Equal(["region", "code", "seq"], code.KeyColumns);
        Assert.Equal((15L * 6 * 12) + 2 - 3, code.LiveRows);
        Assert.Equal((2L, 3L, 2L), (code.OnlyInLive, code.OnlyInCopy, code.Different));
        Assert.Equal([Key("é", "Ñ", "1"), Key("😀", "😀", "2")], code.Samples.OnlyInLive);
        Assert.Equal([Key("B", "ñ", "3"), Key("B", "ñ", "11"), Key("\uFFFD", "9", "1")], code.Samples.OnlyInCopy);
        Assert.Equal([Key("a b", "X", "10"), Key("Ø", "X", "10")], code.Samples.Different);
    }

    [Fact]
    public async Task CompareAsync_UuidKeysAcrossTheSignBit_MatchesInTheServersOrder()
    {
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.doc (id uuid PRIMARY KEY, body text NOT NULL); " +
            "INSERT INTO public.doc SELECT md5(g::text)::uuid, 'body ' || g FROM generate_series(1, 2000) g; " +
            "INSERT INTO public.doc VALUES ('00000000-0000-0000-0000-000000000000', 'lo'), ('7fffffff-ffff-ffff-ffff-ffffffffffff', 'mid'), " +
            "  ('80000000-0000-0000-0000-000000000000', 'mid2'), ('ffffffff-ffff-ffff-ffff-ffffffffffff', 'hi'), ('00000000-0000-0000-8000-000000000000', 'x');");
        await pair.EditLiveAsync(
            "INSERT INTO public.doc VALUES ('ffffffff-0000-0000-0000-000000000000', 'n1'), ('00000001-0000-0000-0000-000000000000', 'n2'); " +
            "DELETE FROM public.doc WHERE id IN ('80000000-0000-0000-0000-000000000000', md5('77')::uuid); " +
            "UPDATE public.doc SET body = 'changed' WHERE id IN ('ffffffff-ffff-ffff-ffff-ffffffffffff', md5('1500')::uuid);");

        var report = await Compare(pair);

        var doc = report.Tables.Single();
        Assert.Equal((2005L, 2005L, 2L, 2L, 2L), (doc.LiveRows, doc.CopyRows, doc.OnlyInLive, doc.OnlyInCopy, doc.Different));
        Assert.Equal(Keys("00000001-0000-0000-0000-000000000000", "ffffffff-0000-0000-0000-000000000000"), doc.Samples.OnlyInLive);
        Assert.Contains(Key("80000000-0000-0000-0000-000000000000"), doc.Samples.OnlyInCopy);
        Assert.Contains(Key("ffffffff-ffff-ffff-ffff-ffffffffffff"), doc.Samples.Different);
    }

    [Fact]
    public async Task CompareAsync_TablesOnOneSideOnly_CountEveryRowThere()
    {
        await using var pair = await Pair.StartAsync(fx,
            "CREATE SCHEMA billing; CREATE TABLE billing.old_invoice (id int PRIMARY KEY, memo text); INSERT INTO billing.old_invoice SELECT g, 'm' FROM generate_series(1, 4) g; " +
            "CREATE TABLE public.same (id int PRIMARY KEY); INSERT INTO public.same VALUES (1);");
        await pair.EditLiveAsync(
            "DROP TABLE billing.old_invoice; " +
            "CREATE TABLE billing.new_invoice (id int PRIMARY KEY, memo text); INSERT INTO billing.new_invoice SELECT g, 'm' FROM generate_series(1, 5) g; " +
            "CREATE TABLE billing.loose (memo text); INSERT INTO billing.loose VALUES ('a'), ('a');");

        var report = await Compare(pair);

        Assert.Equal(["billing.loose", "billing.new_invoice", "billing.old_invoice", "public.same"], report.Tables.Select(t => t.Table));
        var added = report.Tables.Single(t => t.Table == "billing.new_invoice");
        Assert.Equal((TableMatch.OnlyInLive, 5L, 0L, 5L, 0L), (added.MatchedBy, added.LiveRows, added.CopyRows, added.OnlyInLive, added.OnlyInCopy));
        Assert.Equal(Keys("1", "2", "3", "4", "5"), added.Samples.OnlyInLive);
        var dropped = report.Tables.Single(t => t.Table == "billing.old_invoice");
        Assert.Equal((TableMatch.OnlyInCopy, 0L, 4L, 0L, 4L), (dropped.MatchedBy, dropped.LiveRows, dropped.CopyRows, dropped.OnlyInLive, dropped.OnlyInCopy));
        Assert.Equal(Keys("1", "2", "3", "4"), dropped.Samples.OnlyInCopy);
        var loose = report.Tables.Single(t => t.Table == "billing.loose");
        Assert.Equal((TableMatch.OnlyInLive, 2L), (loose.MatchedBy, loose.OnlyInLive));
        Assert.Empty(loose.KeyColumns);
        Assert.True(loose.Changed);
        Assert.False(report.Tables.Single(t => t.Table == "public.same").Changed);
    }

    [Fact]
    public async Task CompareAsync_MoreChangesThanSampleKeys_KeepsTheFirstAndSaysTruncated()
    {
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.many (id int PRIMARY KEY, v text); CREATE TABLE public.few (id int PRIMARY KEY, v text); " +
            "CREATE TABLE public.gone (id int PRIMARY KEY); INSERT INTO public.gone SELECT generate_series(1, 4);");
        await pair.EditLiveAsync(
            "INSERT INTO public.many SELECT g, 'v' FROM generate_series(1, 10) g; INSERT INTO public.few VALUES (1, 'v'), (2, 'v'); DROP TABLE public.gone;");

        var report = await Compare(pair, new ChangeReportOptions { SampleKeys = 3 });

        var many = report.Tables.Single(t => t.Table == "public.many");
        Assert.Equal(10L, many.OnlyInLive);
        Assert.Equal(Keys("1", "2", "3"), many.Samples.OnlyInLive);
        Assert.True(many.SamplesTruncated);
        Assert.False(report.Tables.Single(t => t.Table == "public.few").SamplesTruncated);
        var gone = report.Tables.Single(t => t.Table == "public.gone");
        Assert.Equal(Keys("1", "2", "3"), gone.Samples.OnlyInCopy);
        Assert.True(gone.SamplesTruncated);
    }

    [Fact]
    public async Task CompareAsync_PartitionedTable_ComparedAsOneTable()
    {
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.event (id int, region text, v text, PRIMARY KEY (region, id)) PARTITION BY LIST (region); " +
            "CREATE TABLE public.event_eu PARTITION OF public.event FOR VALUES IN ('eu'); CREATE TABLE public.event_us PARTITION OF public.event FOR VALUES IN ('us'); " +
            "INSERT INTO public.event SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'v' FROM generate_series(1, 100) g;");
        await pair.EditLiveAsync("UPDATE public.event SET v = 'changed' WHERE id = 4; DELETE FROM public.event WHERE id = 5;");

        var report = await Compare(pair);

        var table = Assert.Single(report.Tables);
        Assert.Equal("public.event", table.Table);
        Assert.Equal((99L, 100L, 0L, 1L, 1L), (table.LiveRows, table.CopyRows, table.OnlyInLive, table.OnlyInCopy, table.Different));
        Assert.Equal(Keys2(("us", "5")), table.Samples.OnlyInCopy);
    }

    [Fact]
    public async Task CompareAsync_LegacyInheritanceChild_CountedOnceUnderItsOwnName()
    {
        // A child sharing key values with its parent: read through the parent, the merge would see a key twice.
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.visit (id int PRIMARY KEY, v text); CREATE TABLE public.visit_2019 (PRIMARY KEY (id)) INHERITS (public.visit); " +
            "INSERT INTO public.visit SELECT g, 'v' FROM generate_series(1, 10) g; INSERT INTO public.visit_2019 SELECT g, 'old' FROM generate_series(1, 10) g;");
        await pair.EditLiveAsync("DELETE FROM ONLY public.visit WHERE id = 3; UPDATE public.visit_2019 SET v = 'changed' WHERE id = 7;");

        var report = await Compare(pair);

        var parent = report.Tables.Single(t => t.Table == "public.visit");
        Assert.Equal((9L, 10L, 0L, 1L, 0L), (parent.LiveRows, parent.CopyRows, parent.OnlyInLive, parent.OnlyInCopy, parent.Different));
        var child = report.Tables.Single(t => t.Table == "public.visit_2019");
        Assert.Equal((10L, 10L, 0L, 0L, 1L), (child.LiveRows, child.CopyRows, child.OnlyInLive, child.OnlyInCopy, child.Different));
    }

    [Fact]
    public async Task CompareAsync_TimeBudgetRunsOut_ReportsPartialCountsAndTheTablesNotStarted()
    {
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.big (id bigint PRIMARY KEY, v text NOT NULL); INSERT INTO public.big SELECT g, repeat('v', 40) FROM generate_series(1, 1500000) g; " +
            "CREATE TABLE public.small (id int PRIMARY KEY); INSERT INTO public.small VALUES (1);");
        await pair.EditLiveAsync("DELETE FROM public.small; UPDATE public.big SET v = 'x' WHERE id > 1400000;");

        var clock = Stopwatch.StartNew();
        var report = await Compare(pair, new ChangeReportOptions { TimeBudget = TimeSpan.FromMilliseconds(400), Parallelism = 1 });

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}: the cancelled reads must not be drained");
        Assert.True(report.Partial);
        var big = report.Tables.Single(t => t.Table == "public.big");
        Assert.True(big.Partial);
        Assert.True(big.LiveRows < 1500000, $"{big.LiveRows} rows compared");
        var small = report.Tables.Single(t => t.Table == "public.small");
        Assert.True(small.Partial);
        Assert.Equal((0L, 0L, 0L, 0L), (small.LiveRows, small.CopyRows, small.OnlyInCopy, small.Different));
        Assert.True(report.Summarize().Partial);
    }

    [Fact]
    public async Task CompareAsync_CallerCancels_ThrowsAndDoesNotDrainTheReads()
    {
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.big (id bigint PRIMARY KEY, v text NOT NULL); INSERT INTO public.big SELECT g, repeat('v', 40) FROM generate_series(1, 1500000) g;");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(600));

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new TenantChangeComparer(fx.Connector, new ChangeReportOptions()).CompareAsync("run-x", fx.LiveServer, pair.Live, pair.Copy, cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task CompareAsync_ChangedRows_NoNonKeyValueInTheSerializedReport()
    {
        await using var pair = await Pair.StartAsync(fx,
            "CREATE TABLE public.patient (id int PRIMARY KEY, name text); INSERT INTO public.patient SELECT g, 'name ' || g FROM generate_series(1, 20) g; " +
            "CREATE TABLE public.note (body text); INSERT INTO public.note VALUES ('plain');");
        await pair.EditLiveAsync(
            $"UPDATE public.patient SET name = '{Secret}' WHERE id = 3; INSERT INTO public.patient VALUES (21, '{Secret}'); DELETE FROM public.patient WHERE id = 4; " +
            $"INSERT INTO public.note VALUES ('{Secret}'); CREATE TABLE public.extra (id int PRIMARY KEY, secret text); INSERT INTO public.extra VALUES (1, '{Secret}');");

        var report = await Compare(pair);

        var json = JsonSerializer.Serialize(report);
        Assert.DoesNotContain(Secret, json, StringComparison.Ordinal);
        Assert.DoesNotContain("name ", json, StringComparison.Ordinal);
        var patient = report.Tables.Single(t => t.Table == "public.patient");
        Assert.Equal((1L, 1L, 1L), (patient.OnlyInLive, patient.OnlyInCopy, patient.Different));
    }

    [Fact]
    public async Task CompareAsync_CopyMissing_RefusesNamingIt()
    {
        await using var pair = await Pair.StartAsync(fx, "CREATE TABLE public.t (id int PRIMARY KEY);");

        var error = await Assert.ThrowsAsync<DatabaseStateConflictException>(() =>
            new TenantChangeComparer(fx.Connector, new ChangeReportOptions()).CompareAsync("run-x", fx.LiveServer, pair.Live, pair.Live + "_nope", CancellationToken.None));

        Assert.Contains(pair.Live + "_nope", error.Message, StringComparison.Ordinal);
    }

    private async Task<ChangeReport> Compare(Pair pair, ChangeReportOptions? options = null) =>
        await new TenantChangeComparer(fx.Connector, options ?? new ChangeReportOptions()).CompareAsync("run-" + pair.Live, fx.LiveServer, pair.Live, pair.Copy, CancellationToken.None);

    private static IReadOnlyList<string?> Key(params string[] values) => values;

    private static List<IReadOnlyList<string?>> Keys(params string[] values) => [.. values.Select(v => Key(v))];

    private static List<IReadOnlyList<string?>> Keys2(params (string A, string B)[] values) => [.. values.Select(v => Key(v.A, v.B))];

    /// <summary>A live database and its copy (taken right after <c>setup</c>), both dropped at the end.</summary>
    private sealed class Pair : IAsyncDisposable
    {
        private readonly ClusterFixture _fx;

        private Pair(ClusterFixture fx, string id)
        {
            _fx = fx;
            Live = "tenant_chg_" + id;
            Copy = Live + "_restore_copy";
        }

        public string Live { get; }

        public string Copy { get; }

        public static async Task<Pair> StartAsync(ClusterFixture fx, string setup)
        {
            fx.RequirePostgres();
            var pair = new Pair(fx, Guid.NewGuid().ToString("N")[..10]);
            await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {PgQuote.Identifier(pair.Live)}");
            await fx.ExecAsync(fx.LiveServer, pair.Live, setup);
            await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {PgQuote.Identifier(pair.Copy)} TEMPLATE {PgQuote.Identifier(pair.Live)}");
            return pair;
        }

        public Task EditLiveAsync(string sql) => _fx.ExecAsync(_fx.LiveServer, Live, sql);

        public async ValueTask DisposeAsync()
        {
            await using var maintenance = await _fx.Connector.OpenMaintenanceAsync(_fx.LiveServer, CancellationToken.None);
            var catalog = new ServerCatalog(maintenance);
            await catalog.DropIfExistsAsync(Copy, CancellationToken.None);
            await catalog.DropIfExistsAsync(Live, CancellationToken.None);
        }
    }
}
