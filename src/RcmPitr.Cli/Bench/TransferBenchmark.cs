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

/// <summary>One mode's measurements.</summary>
internal sealed record ModeResult(string Name, double MedianSeconds, double SpeedupVsRunbook, double RatioToFloor, long PeakScratchBytes, long PeakMemoryBytes, bool Verified, IReadOnlyList<double> Seconds);

/// <summary>The whole benchmark's result (the JSON of <c>--json</c>).</summary>
internal sealed record BenchmarkResult(string Machine, int Cores, int PostgresMajor, long DatabaseBytes, int Rounds, double FloorSeconds, IReadOnlyList<ModeResult> Modes);

/// <summary>
/// Moves a generated tenant database between two local clusters with each mode, alternating the order over
/// rounds after a warm-up, verifies every run, and measures the floor: the same data by parallel raw COPY
/// plus the index and constraint builds, with the schema created beforehand (not timed).
/// </summary>
internal sealed class TransferBenchmark(TextWriter output, int sizeMb, int rounds, int jobs, int maintenanceWorkMemMb)
{
    private static readonly TransferMode[] Modes = [TransferMode.Runbook, TransferMode.Parallel, TransferMode.Streaming];
    private const string FloorName = "floor";
    private readonly ProcessRunner _processes = new();
    private int _run;
    private IReadOnlyList<(TimeSpan At, string What)> _lastStreaming = [];

    /// <summary><c>maintenance_work_mem</c> of the streaming mode's GIN builds.</summary>
    public int GinMaintenanceWorkMemMb { get; init; } = 16;

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
            var mover = new TenantMover(connector, tools, _processes, new DataMoverOptions
            {
                ScratchDirectory = Path.Combine(root, "scratch"), RestoreMaintenanceWorkMemMb = maintenanceWorkMemMb, GinMaintenanceWorkMemMb = GinMaintenanceWorkMemMb,
            });
            var (bytes, expected) = await GenerateAsync(connector, source, ct);

            await output.WriteLineAsync("warm-up (runbook mode, not counted)");
            await MeasureAsync(connector, mover, source, target, TransferMode.Runbook, expected, ct);
            var samples = Modes.Select(m => m.ToString()).Append(FloorName).ToDictionary(m => m, _ => new List<(double Seconds, long Scratch, long Memory, bool Verified)>());
            for (var round = 1; round <= rounds; round++)
            {
                // Alternate the order each round so no mode always runs first (or after the same neighbour).
                var order = Modes.Select(m => m.ToString()).Append(FloorName).ToList();
                if (round % 2 == 0)
                {
                    order.Reverse();
                }

                foreach (var mode in order)
                {
                    var sample = mode == FloorName
                        ? await MeasureFloorAsync(connector, mover, source, target, expected, ct)
                        : await MeasureAsync(connector, mover, source, target, Enum.Parse<TransferMode>(mode), expected, ct);
                    samples[mode].Add(sample);
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  round {round} {mode,-10} {sample.Seconds,8:0.00} s  verified={sample.Verified}"));
                }
            }

            if (Trace)
            {
                await output.WriteLineAsync("last streaming run:");
                foreach (var (at, what) in _lastStreaming)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {at.TotalSeconds,7:0.00} s  {what}"));
                }
            }

            return Summarize(samples, bytes, sourceCluster.MajorVersion);
        }
        finally
        {
            await sourceCluster.DisposeAsync();
            await targetCluster.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
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

        await using var size = new NpgsqlCommand("SELECT pg_database_size('tenant_bench')", connection);
        var bytes = (long)(await size.ExecuteScalarAsync(ct))!;
        var fingerprint = await MoveVerifier.FingerprintAsync(connection, ct);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {bytes / 1048576.0:0} MB in {clock.Elapsed.TotalSeconds:0} s"));
        return (bytes, fingerprint);
    }

    private async Task<(double Seconds, long Scratch, long Memory, bool Verified)> MeasureAsync(
        PgConnector connector, TenantMover mover, DbServerInfo source, DbServerInfo target, TransferMode mode, IReadOnlyDictionary<string, string> expected, CancellationToken ct)
    {
        var database = await FreshTargetAsync(connector, target, ct);
        MoveResult result;
        long memory;
        await using (var sampler = new MemorySampler())
        {
            var meter = new MoveMeter();
            result = await mover.MoveAsync(new MoveRequest($"bench-{_run}", source, "tenant_bench", target, database, mode, jobs), meter, ct);
            memory = sampler.PeakBytes;
            if (mode == TransferMode.Streaming)
            {
                _lastStreaming = meter.Events;
            }
        }

        var verified = await VerifyAsync(connector, target, database, expected, ct);
        return (result.Elapsed.TotalSeconds, result.PeakScratchBytes, memory, verified);
    }

    private async Task<(double Seconds, long Scratch, long Memory, bool Verified)> MeasureFloorAsync(
        PgConnector connector, TenantMover mover, DbServerInfo source, DbServerInfo target, IReadOnlyDictionary<string, string> expected, CancellationToken ct)
    {
        var database = await FreshTargetAsync(connector, target, ct);
        var request = new MoveRequest($"bench-{_run}", source, "tenant_bench", target, database, TransferMode.Streaming, Environment.ProcessorCount);
        var scratch = Path.Combine(Path.GetTempPath(), "rcm-pitr-bench-floor-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(scratch);
        try
        {
            await mover.MoveSectionAsync(request, "pre-data", scratch, 1, ct);
            long memory;
            var clock = Stopwatch.StartNew();
            await using (var sampler = new MemorySampler())
            {
                await mover.CopyDataAsync(request, null, ct);
                await mover.MoveSectionAsync(request, "post-data", scratch, Environment.ProcessorCount, ct);
                memory = sampler.PeakBytes;
            }

            var seconds = clock.Elapsed.TotalSeconds;
            return (seconds, 0, memory, await VerifyAsync(connector, target, database, expected, ct));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
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

    private BenchmarkResult Summarize(Dictionary<string, List<(double Seconds, long Scratch, long Memory, bool Verified)>> samples, long bytes, int major)
    {
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        }

        var runbook = Median(samples[nameof(TransferMode.Runbook)].Select(s => s.Seconds));
        var floor = Median(samples[FloorName].Select(s => s.Seconds));
        var modes = samples.Select(pair =>
        {
            var median = Median(pair.Value.Select(s => s.Seconds));
            return new ModeResult(
                pair.Key.ToLowerInvariant(), Math.Round(median, 3), Math.Round(runbook / median, 2), Math.Round(median / floor, 2),
                pair.Value.Max(s => s.Scratch), pair.Value.Max(s => s.Memory), pair.Value.All(s => s.Verified), pair.Value.Select(s => Math.Round(s.Seconds, 3)).ToList());
        }).ToList();
        return new BenchmarkResult(Environment.MachineName, Environment.ProcessorCount, major, bytes, rounds, Math.Round(floor, 3), modes);
    }

    public static string ToJson(BenchmarkResult result) =>
        JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
}
