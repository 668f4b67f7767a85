using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Cli.Bench;

/// <summary>
/// One mode's measurements; <paramref name="IdleCoreSeconds"/> (streaming only) is the median of the core-seconds the
/// machine sat idle during a run; <paramref name="VsLimitByRound"/> is each round's run over that round's limit.
/// </summary>
internal sealed record ModeResult(
    string Name,
    double MedianSeconds,
    double SpeedupVsRunbook,
    double VsLimit,
    double? IdleCoreSeconds,
    long PeakScratchBytes,
    long PeakMemoryBytes,
    bool Verified,
    IReadOnlyList<double> Seconds,
    IReadOnlyList<double> VsLimitByRound);

/// <summary>
/// The whole benchmark's result (the JSON of <c>--json</c>): the computed limit (from each item's median over the rounds'
/// measuring passes), each round's own limit, the items, and each mode.
/// </summary>
internal sealed record BenchmarkResult(
    string Machine,
    int Cores,
    int PostgresMajor,
    long DatabaseBytes,
    int Rounds,
    double LimitSeconds,
    double SchemaSeconds,
    double CriticalPathSeconds,
    IReadOnlyList<CriticalStep> CriticalPath,
    double WorkCpuSeconds,
    double WorkPerCoreSeconds,
    double GrahamUpperSeconds,
    bool LimitPassVerified,
    IReadOnlyList<double> LimitSecondsByRound,
    IReadOnlyList<LimitItem> Items,
    IReadOnlyList<ModeResult> Modes)
{
    /// <summary>The streaming mode's pacing beside GIN builds in this run (0: never paced).</summary>
    public double PaceCopiesBesideGin { get; init; }

    /// <summary>The nice the streaming mode's process took beside GIN builds in this run (0: never).</summary>
    public int YieldCpuBesideGin { get; init; }
}

/// <summary>
/// Moves a generated tenant database between two local clusters with each mode, alternating the order over
/// rounds after a warm-up, and verifies every run. Each round also has a measuring pass, in the same rotation, that times
/// every piece of a move alone (schema, each table's copy, each index and constraint build); the limit is computed from
/// each piece's median over the rounds (<see cref="TransferLimit"/>): what no schedule of those pieces can beat on this
/// machine. Measuring in every round, beside the modes, keeps a slow or fast spell of the machine from setting it.
/// </summary>
internal sealed class TransferBenchmark(TextWriter output, int sizeMb, int rounds, int jobs, int maintenanceWorkMemMb)
{
    /// <summary>The name of the streaming mode run with its copies never paced (<see cref="CompareUnpaced"/>).</summary>
    public const string UnpacedStreaming = "streaming-unpaced";

    /// <summary>The name of the streaming mode run without stepping back beside GIN builds (<see cref="CompareNoYield"/>).</summary>
    public const string NoYieldStreaming = "streaming-no-yield";

    private readonly ProcessRunner _processes = new();
    private int _run;
    private IReadOnlyList<(TimeSpan At, string What)> _lastStreaming = [];
    private CpuClock _cpu = new(100);

    /// <summary><c>maintenance_work_mem</c> of the streaming mode's GIN builds (and of the measuring pass's).</summary>
    public int GinMaintenanceWorkMemMb { get; init; } = 16;

    /// <summary>The streaming mode's pacing of copies beside a GIN build (<see cref="DataMoverOptions.PaceCopiesBesideGin"/>).</summary>
    public double PaceCopiesBesideGin { get; init; }

    /// <summary>
    /// Also run the streaming mode with its copies never paced, as one more mode of every round: the pacing's effect
    /// measured side by side, in the same spells of the machine.
    /// </summary>
    public bool CompareUnpaced { get; init; }

    /// <summary>The streaming mode's <see cref="DataMoverOptions.YieldCpuBesideGin"/> (the product's default unless set).</summary>
    public int YieldCpuBesideGin { get; init; } = new DataMoverOptions().YieldCpuBesideGin;

    /// <summary>
    /// Also run the streaming mode without stepping back beside GIN builds (its pacing as the streaming mode's), as one
    /// more mode of every round: the yield's effect measured side by side.
    /// </summary>
    public bool CompareNoYield { get; init; }

    /// <summary>Print the last streaming run's events.</summary>
    public bool Trace { get; init; }

    public async Task<BenchmarkResult> RunAsync(CancellationToken ct)
    {
        var root = Path.Combine(Path.GetTempPath(), "rcm-pitr-bench", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var secrets = new LocalSecretStore(Path.Combine(root, "secrets.json"));
        var tools = new PgToolLocator(new PgToolOptions(), _processes);
        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await secrets.SetSecretAsync("bench-admin", password, ct);
        await output.WriteLineAsync($"starting two clusters under {root}");
        var clusters = await Task.WhenAll(
            LocalCluster.CreateAsync(new LocalClusterOptions { RootDirectory = Path.Combine(root, "source"), Name = "bench-source", Password = password }, tools, _processes, ct),
            LocalCluster.CreateAsync(new LocalClusterOptions { RootDirectory = Path.Combine(root, "target"), Name = "bench-target", Password = password }, tools, _processes, ct));
        await using var sourceCluster = clusters[0];
        await using var targetCluster = clusters[1];
        try
        {
            var source = sourceCluster.ToServerInfo("bench-admin");
            var target = targetCluster.ToServerInfo("bench-admin");
            var connector = new PgConnector(secrets, new PgConnectionOptions());
            TenantMover Mover(double pace, int yieldNice) => new(connector, tools, _processes, new DataMoverOptions
            {
                ScratchDirectory = Path.Combine(root, "scratch"), RestoreMaintenanceWorkMemMb = maintenanceWorkMemMb, GinMaintenanceWorkMemMb = GinMaintenanceWorkMemMb,
                PaceCopiesBesideGin = pace, YieldCpuBesideGin = yieldNice,
            });
            var mover = Mover(PaceCopiesBesideGin, YieldCpuBesideGin);
            List<RunKind> kinds = [new("runbook", TransferMode.Runbook, mover), new("parallel", TransferMode.Parallel, mover), new("streaming", TransferMode.Streaming, mover)];
            if (CompareUnpaced)
            {
                kinds.Add(new(UnpacedStreaming, TransferMode.Streaming, Mover(0, YieldCpuBesideGin)));
            }

            if (CompareNoYield)
            {
                kinds.Add(new(NoYieldStreaming, TransferMode.Streaming, Mover(PaceCopiesBesideGin, 0)));
            }

            var (bytes, expected) = await GenerateAsync(connector, source, ct);
            _cpu = await CpuClock.CreateAsync(_processes, ct);

            await output.WriteLineAsync("warm-up (runbook mode, not counted)");
            await MeasureAsync(connector, kinds[0], source, target, expected, ct);
            var samples = kinds.ToDictionary(k => k.Name, _ => new List<Sample>());
            var passes = new List<LimitPass>();
            for (var round = 1; round <= rounds; round++)
            {
                // Alternate the order each round so no mode (nor the measuring pass) always runs first or after the same neighbour.
                var order = kinds.Select(k => (RunKind?)k).Append(null).ToList();
                if (round % 2 == 0)
                {
                    order.Reverse();
                }

                foreach (var kind in order)
                {
                    if (kind is not { } measured)
                    {
                        var pass = await MeasureLimitAsync(connector, tools, source, target, root, expected, ct);
                        passes.Add(pass);
                        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"  round {round} {"limit",-10} {pass.Limit.LimitSeconds,8:0.00} s  verified={pass.Verified}  (each item alone, one after another: {pass.Items.Sum(i => i.WallSeconds) + pass.SchemaSeconds:0.00} s)"));
                        continue;
                    }

                    var sample = await MeasureAsync(connector, measured, source, target, expected, ct);
                    samples[measured.Name].Add(sample);
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  round {round} {measured.Name,-10} {sample.Seconds,8:0.00} s  verified={sample.Verified}"));
                }
            }

            var result = Summarize(samples, bytes, sourceCluster.MajorVersion, passes);
            if (Trace)
            {
                await output.WriteLineAsync("last streaming run:");
                foreach (var (at, what) in _lastStreaming)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {at.TotalSeconds,7:0.00} s  {what}"));
                }

                await output.WriteLineAsync("the critical path's items alone (median) and in the last streaming run:");
                foreach (var step in result.CriticalPath)
                {
                    var item = result.Items.FirstOrDefault(i => TransferLimit.Describe(i) == step.Item);
                    var inRun = item is null ? null : SpanInRun(item, _lastStreaming);
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"  {step.Seconds,7:0.00} s  {(inRun is { } run ? run.ToString("0.00", CultureInfo.InvariantCulture) + " s" : "-"),9}  {step.Item}"));
                }
            }

            return result;
        }
        finally
        {
            await sourceCluster.DisposeAsync();
            await targetCluster.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>How long <paramref name="item"/> took in a streaming run, from the run's events (first start to last end); null if not found.</summary>
    internal static double? SpanInRun(LimitItem item, IReadOnlyList<(TimeSpan At, string What)> events)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(events);
        var dot = item.Table.IndexOf('.', StringComparison.Ordinal);
        var (schema, relation) = (item.Table[..dot], item.Table[(dot + 1)..]);
        var table = PgQuote.Qualified(schema, relation);
        Func<string, bool> starts, ends;
        if (item.Kind == LimitItem.Copy)
        {
            starts = e => e == $"copy start data {table}" || e.StartsWith($"copy start data {table} pages ", StringComparison.Ordinal);
            ends = e => e == $"copy end data {table}" || e.StartsWith($"copy end data {table} pages ", StringComparison.Ordinal);
        }
        else
        {
            // As the streaming mode labels its builds (an attach step attaches every key of its table at once).
            Func<string, bool> matches = item.Kind switch
            {
                LimitItem.Index => label => label == $"index {PgQuote.Qualified(schema, item.Name)}" || label == $"unique index for constraint {PgQuote.Identifier(item.Name)} of {table}",
                LimitItem.Attach => label => label.StartsWith("attach ", StringComparison.Ordinal) && label.EndsWith($" of {table}", StringComparison.Ordinal),
                LimitItem.Constraint => label => label == $"constraint {PgQuote.Identifier(item.Name)} of {table}",
                _ => label => label == $"foreign key {PgQuote.Identifier(item.Name)} of {table}",
            };
            starts = e => e.StartsWith("build start ", StringComparison.Ordinal) && matches(e["build start ".Length..]);
            ends = e => e.StartsWith("build end ", StringComparison.Ordinal) && matches(e["build end ".Length..]);
        }

        var first = events.Where(e => starts(e.What)).Select(e => (TimeSpan?)e.At).Min();
        var last = events.Where(e => ends(e.What)).Select(e => (TimeSpan?)e.At).Max();
        return first is { } from && last is { } to ? (to - from).TotalSeconds : null;
    }

    private async Task<(long Bytes, IReadOnlyDictionary<string, string> Fingerprint)> GenerateAsync(PgConnector connector, DbServerInfo source, CancellationToken ct)
    {
        await output.WriteLineAsync($"generating a tenant database of about {sizeMb} MB");
        var clock = Stopwatch.StartNew();
        await using (var maintenance = await connector.OpenMaintenanceAsync(source, ct))
        await using (var create = new NpgsqlCommand("CREATE DATABASE tenant_bench", maintenance))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        await using var connection = await connector.OpenAsync(source, "tenant_bench", ct);
        await using (var fill = new NpgsqlCommand(BenchmarkSchema.Sql(sizeMb), connection) { CommandTimeout = 0 })
        {
            await fill.ExecuteNonQueryAsync(ct);
        }

        // Freeze and flush the fresh rows now: otherwise autovacuum comes for them (and the first readers set their hint
        // bits) in the middle of the first rounds, and that time is charged to whatever runs then.
        await using (var settle = new NpgsqlCommand("VACUUM (FREEZE, ANALYZE)", connection) { CommandTimeout = 0 })
        {
            await settle.ExecuteNonQueryAsync(ct);
        }

        await using (var checkpoint = new NpgsqlCommand("CHECKPOINT", connection) { CommandTimeout = 0 })
        {
            await checkpoint.ExecuteNonQueryAsync(ct);
        }

        await using var size = new NpgsqlCommand("SELECT pg_database_size('tenant_bench')", connection);
        var bytes = (long)(await size.ExecuteScalarAsync(ct))!;
        var fingerprint = await MoveVerifier.FingerprintAsync(connection, ct);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {bytes / 1048576.0:0} MB in {clock.Elapsed.TotalSeconds:0} s"));
        return (bytes, fingerprint);
    }

    private sealed record Sample(double Seconds, long Scratch, long Memory, bool Verified, double? IdleCoreSeconds);

    /// <summary>What one run of a round moves with: a mode, under a name, with a mover's settings.</summary>
    private sealed record RunKind(string Name, TransferMode Mode, TenantMover Mover);

    private async Task<Sample> MeasureAsync(
        PgConnector connector, RunKind kind, DbServerInfo source, DbServerInfo target, IReadOnlyDictionary<string, string> expected, CancellationToken ct)
    {
        var (mover, mode) = (kind.Mover, kind.Mode);
        var database = await FreshTargetAsync(connector, target, ct);
        MoveResult result;
        long memory;
        double? idle = null;
        await using (var sampler = new MemorySampler())
        {
            var meter = new MoveMeter();
            var idleBefore = _cpu.IdleCoreSeconds();
            result = await mover.MoveAsync(new MoveRequest($"bench-{_run}", source, "tenant_bench", target, database, mode, jobs), meter, ct);
            memory = sampler.PeakBytes;
            if (mode == TransferMode.Streaming)
            {
                idle = _cpu.IdleCoreSeconds() - idleBefore;
                if (kind.Name is not (UnpacedStreaming or NoYieldStreaming))
                {
                    _lastStreaming = meter.Events;
                }
            }
        }

        var verified = await VerifyAsync(connector, target, database, expected, ct);
        return new Sample(result.Elapsed.TotalSeconds, result.PeakScratchBytes, memory, verified, idle);
    }

    /// <summary>One measuring pass: every item alone, and the limit computed from that pass alone.</summary>
    private sealed record LimitPass(double SchemaSeconds, IReadOnlyList<LimitItem> Items, TransferLimit Limit, bool Verified);

    /// <summary>A measuring pass (one per round): every item alone, then the limit computed from them.</summary>
    private async Task<LimitPass> MeasureLimitAsync(
        PgConnector connector, PgToolLocator tools, DbServerInfo source, DbServerInfo target, string root, IReadOnlyDictionary<string, string> expected, CancellationToken ct)
    {
        var database = await FreshTargetAsync(connector, target, ct);
        var scratch = Path.Combine(root, "limit");
        Directory.CreateDirectory(scratch);
        var probe = new TransferLimitProbe(connector, tools, _processes, _cpu, Math.Max(1, jobs), maintenanceWorkMemMb, GinMaintenanceWorkMemMb);
        var (schemaSeconds, items) = await probe.MeasureAsync(source, "tenant_bench", target, database, scratch, ct);
        // The pass rebuilt the whole database: the same check as a move proves no item was left out.
        var verified = await VerifyAsync(connector, target, database, expected, ct);
        return new LimitPass(schemaSeconds, items, TransferLimit.Compute(schemaSeconds, Environment.ProcessorCount, items), verified);
    }

    private async Task<string> FreshTargetAsync(PgConnector connector, DbServerInfo target, CancellationToken ct)
    {
        var database = $"tenant_bench_restore_{++_run}";
        await using var maintenance = await connector.OpenMaintenanceAsync(target, ct);
        var catalog = new ServerCatalog(maintenance);
        foreach (var old in Enumerable.Range(1, _run - 1).Select(i => $"tenant_bench_restore_{i}"))
        {
            await catalog.DropIfExistsAsync(old, ct);
        }

        await using var create = new NpgsqlCommand($"CREATE DATABASE {PgQuote.Identifier(database)} TEMPLATE template0", maintenance);
        await create.ExecuteNonQueryAsync(ct);
        // Start every run from the same state: flushed, nothing pending from the previous one.
        await using var checkpoint = new NpgsqlCommand("CHECKPOINT", maintenance);
        await checkpoint.ExecuteNonQueryAsync(ct);
        return database;
    }

    private async Task<bool> VerifyAsync(PgConnector connector, DbServerInfo target, string database, IReadOnlyDictionary<string, string> expected, CancellationToken ct)
    {
        await using var connection = await connector.OpenAsync(target, database, ct);
        var differences = MoveVerifier.Differences(expected, await MoveVerifier.FingerprintAsync(connection, ct));
        if (differences.Count > 0)
        {
            await output.WriteLineAsync($"  VERIFICATION FAILED: {string.Join(", ", differences)}");
        }

        return differences.Count == 0;
    }

    private BenchmarkResult Summarize(Dictionary<string, List<Sample>> samples, long bytes, int major, List<LimitPass> passes)
    {
        static double Round(double value) => Math.Round(value, 3);

        var items = TransferLimit.Medians(passes.Select(p => p.Items).ToList());
        var limit = TransferLimit.Compute(BenchStatistics.Median(passes.Select(p => p.SchemaSeconds)), Environment.ProcessorCount, items);
        var byRound = passes.Select(p => p.Limit.LimitSeconds).ToList();
        var runbook = BenchStatistics.Median(samples["runbook"].Select(s => s.Seconds));
        var modes = samples.Select(pair =>
        {
            var median = BenchStatistics.Median(pair.Value.Select(s => s.Seconds));
            var idle = pair.Value.All(s => s.IdleCoreSeconds is not null) ? Round(BenchStatistics.Median(pair.Value.Select(s => s.IdleCoreSeconds!.Value))) : (double?)null;
            return new ModeResult(
                pair.Key, Round(median), Math.Round(runbook / median, 2), Math.Round(median / limit.LimitSeconds, 2), idle,
                pair.Value.Max(s => s.Scratch), pair.Value.Max(s => s.Memory), pair.Value.All(s => s.Verified), pair.Value.Select(s => Round(s.Seconds)).ToList(),
                pair.Value.Select((s, round) => Math.Round(s.Seconds / byRound[round], 2)).ToList());
        }).ToList();
        return new BenchmarkResult(
            Environment.MachineName, limit.Cores, major, bytes, rounds,
            Round(limit.LimitSeconds), Round(limit.SchemaSeconds), Round(limit.CriticalPathSeconds),
            limit.CriticalPath.Select(step => step with { Seconds = Round(step.Seconds) }).ToList(),
            Round(limit.WorkCpuSeconds), Round(limit.WorkPerCoreSeconds), Round(limit.GrahamUpperSeconds), passes.All(p => p.Verified),
            byRound.Select(Round).ToList(),
            items.Select(i => i with { WallSeconds = Round(i.WallSeconds), CpuSeconds = Round(i.CpuSeconds) }).ToList(),
            modes)
        {
            PaceCopiesBesideGin = PaceCopiesBesideGin,
            YieldCpuBesideGin = YieldCpuBesideGin,
        };
    }

    public static string ToJson(BenchmarkResult result) =>
        JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
}
