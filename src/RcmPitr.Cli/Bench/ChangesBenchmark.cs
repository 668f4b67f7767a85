using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using RcmPitr.Postgres.Changes;
using RcmPitr.Postgres.Clusters;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Cli.Bench;

/// <summary>The edits made to live after the copy: what the comparison must find.</summary>
internal sealed record ChangeCounts(long OnlyInLive, long OnlyInCopy, long Different)
{
    public long Total => OnlyInLive + OnlyInCopy + Different;
}

/// <summary>The change benchmark's result (the JSON of <c>--json</c>).</summary>
internal sealed record ChangesBenchmarkResult(
    string Machine,
    int Cores,
    int PostgresMajor,
    long DatabaseBytes,
    long Rows,
    int Rounds,
    int Parallelism,
    int TransferJobs,
    ChangeCounts Expected,
    ChangeCounts Found,
    double ChangedPercent,
    bool CountsMatch,
    double CompareMedianSeconds,
    IReadOnlyList<double> CompareSeconds,
    double CompareClientCpuSeconds,
    long ComparePeakMemoryBytes,
    double TransferMedianSeconds,
    IReadOnlyList<double> TransferSeconds,
    double CompareToTransferRatio,
    string? LoadAverageAtStart,
    string? LoadAverageAtEnd);

/// <summary>
/// Generates the benchmark tenant database on one local cluster, copies it with the streaming mover (timed: the transfer
/// the comparison is set beside), changes about 1 % of live's rows (inserts, updates and deletes over the tables), then
/// runs the change comparison of live against the copy and checks that it finds exactly the edits.
/// </summary>
internal sealed class ChangesBenchmark(TextWriter output, int sizeMb, int rounds, int jobs, int parallelism)
{
    private const string Live = "tenant_bench";
    private readonly ProcessRunner _processes = new();

    // Each statement changes rows of one category; their residues never overlap, so every edited row counts once.
    private static readonly (string Category, string Sql)[] Edits =
    [
        ("delete", "DELETE FROM claims.claim_event WHERE claim_id % 300 = 7"),
        ("update", "UPDATE claims.claim_event SET code = code + 1 WHERE claim_id % 300 = 11"),
        ("insert", "INSERT INTO claims.claim_event (claim_id, seq, code, at) SELECT DISTINCT claim_id, 3, 1::smallint, timestamptz '2026-12-01' FROM claims.claim_event WHERE claim_id % 300 = 13"),
        ("update", "UPDATE claims.claim SET notes = 'edited ' || notes WHERE id % 300 = 17"),
        ("delete", "DELETE FROM claims.claim WHERE id % 300 = 19"),
        ("insert", "INSERT INTO claims.claim (member_id, submitted_at, payload, notes, amount) SELECT 1 + g % (SELECT count(*) FROM members.member), timestamptz '2026-12-01', '{\"cpt\": \"99213\"}', 'new claim ' || g, 10 FROM generate_series(1, (SELECT count(*) / 150 FROM claims.claim)) g"),
        ("update", "UPDATE members.member SET plan = plan || '{\"edited\": true}' WHERE id % 100 = 3"),
        ("insert", "INSERT INTO members.member (organization_id, member_number, full_name, plan) SELECT 1, 'N' || lpad(g::text, 9, '0'), 'New member ' || g, '{}' FROM generate_series(1, (SELECT count(*) / 150 FROM members.member)) g"),
        ("update", "UPDATE security.app_user SET password_hash = 'rotated' WHERE id % 100 = 1"),
        ("insert", "INSERT INTO identity.organization (name, npi) VALUES ('Org new', '9999999999')"),
    ];

    public async Task<ChangesBenchmarkResult> RunAsync(CancellationToken ct)
    {
        var loadAtStart = LoadAverage();
        var root = Path.Combine(Path.GetTempPath(), "rcm-pitr-bench", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var secrets = new LocalSecretStore(Path.Combine(root, "secrets.json"));
        var tools = new PgToolLocator(new PgToolOptions(), _processes);
        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await secrets.SetSecretAsync("bench-admin", password, ct);
        await output.WriteLineAsync($"starting a cluster under {root}");
        var cluster = await LocalCluster.CreateAsync(new LocalClusterOptions { RootDirectory = Path.Combine(root, "live"), Name = "bench-live", Password = password }, tools, _processes, ct);
        try
        {
            var server = cluster.ToServerInfo("bench-admin");
            var connector = new PgConnector(secrets, new PgConnectionOptions());
            var mover = new TenantMover(connector, tools, _processes, new DataMoverOptions { ScratchDirectory = Path.Combine(root, "scratch") });
            var bytes = await GenerateAsync(connector, server, ct);
            var rows = await CountRowsAsync(connector, server, ct);

            var transfers = new List<double>();
            string copy = "";
            for (var round = 1; round <= rounds; round++)
            {
                copy = await FreshCopyAsync(connector, server, round, ct);
                var moved = await mover.MoveAsync(new MoveRequest($"bench-{round}", server, Live, server, copy, TransferMode.Streaming, jobs), new MoveMeter(), ct);
                transfers.Add(moved.Elapsed.TotalSeconds);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  transfer round {round} {moved.Elapsed.TotalSeconds,8:0.00} s"));
            }

            var expected = await EditLiveAsync(connector, server, ct);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"live edited after the copy: {expected.OnlyInLive} inserted, {expected.OnlyInCopy} deleted, {expected.Different} updated ({100.0 * expected.Total / rows:0.00} % of {rows} rows)"));
            await CheckpointAsync(connector, server, ct);

            var comparer = new TenantChangeComparer(connector, new ChangeReportOptions { Parallelism = parallelism, TimeBudget = TimeSpan.FromHours(1) });
            var compares = new List<double>();
            var clientCpus = new List<double>();
            var found = new ChangeCounts(0, 0, 0);
            var match = true;
            long memory = 0;
            for (var round = 1; round <= rounds; round++)
            {
                ChangeReport report;
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                await using (var sampler = new MemorySampler())
                {
                    report = await comparer.CompareAsync($"bench-{round}", server, Live, copy, ct);
                    memory = Math.Max(memory, sampler.PeakBytes);
                }

                compares.Add(clock.Elapsed.TotalSeconds);
                var clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                clientCpus.Add(clientCpu);
                found = new ChangeCounts(report.OnlyInLive, report.OnlyInCopy, report.Different);
                var ok = found == expected && !report.Partial;
                match &= ok;
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  compare round {round} {clock.Elapsed.TotalSeconds,8:0.00} s (client CPU {clientCpu:0.00} s)  found {found.OnlyInLive}/{found.OnlyInCopy}/{found.Different}  {(ok ? "as edited" : "MISMATCH")}"));
                if (round == rounds)
                {
                    foreach (var table in report.Summarize().Tables)
                    {
                        await output.WriteLineAsync($"    {table.Table,-28} {table.MatchedBy,-12} +{table.OnlyInLive} -{table.OnlyInCopy} ~{table.Different}");
                    }
                }
            }

            var compareMedian = BenchStatistics.Median(compares);
            var transferMedian = BenchStatistics.Median(transfers);
            return new ChangesBenchmarkResult(
                Environment.MachineName, Environment.ProcessorCount, cluster.MajorVersion, bytes, rows, rounds, parallelism, jobs, expected, found,
                Math.Round(100.0 * expected.Total / rows, 2), match, Math.Round(compareMedian, 3), compares.Select(s => Math.Round(s, 3)).ToList(),
                Math.Round(BenchStatistics.Median(clientCpus), 3), memory,
                Math.Round(transferMedian, 3), transfers.Select(s => Math.Round(s, 3)).ToList(), Math.Round(compareMedian / transferMedian, 3), loadAtStart, LoadAverage());
        }
        finally
        {
            await cluster.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    public static string ToJson(ChangesBenchmarkResult result) =>
        JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });

    private async Task<long> GenerateAsync(PgConnector connector, DbServerInfo server, CancellationToken ct)
    {
        await output.WriteLineAsync($"generating a tenant database of about {sizeMb} MB");
        var clock = Stopwatch.StartNew();
        await using (var maintenance = await connector.OpenMaintenanceAsync(server, ct))
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {PgQuote.Identifier(Live)}", maintenance))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        await using var connection = await connector.OpenAsync(server, Live, ct);
        await using (var fill = new NpgsqlCommand(BenchmarkSchema.Sql(sizeMb), connection) { CommandTimeout = 0 })
        {
            await fill.ExecuteNonQueryAsync(ct);
        }

        await using var size = new NpgsqlCommand($"SELECT pg_database_size({PgQuote.Literal(Live)})", connection);
        var bytes = (long)(await size.ExecuteScalarAsync(ct))!;
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {bytes / 1048576.0:0} MB in {clock.Elapsed.TotalSeconds:0} s"));
        return bytes;
    }

    private static async Task<long> CountRowsAsync(PgConnector connector, DbServerInfo server, CancellationToken ct)
    {
        await using var connection = await connector.OpenAsync(server, Live, ct);
        await using var count = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM identity.organization) + (SELECT count(*) FROM security.app_user) + (SELECT count(*) FROM members.member) " +
            "+ (SELECT count(*) FROM claims.claim) + (SELECT count(*) FROM claims.claim_event)",
            connection);
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }

    private static async Task<string> FreshCopyAsync(PgConnector connector, DbServerInfo server, int round, CancellationToken ct)
    {
        var copy = $"{Live}_restore_{round}";
        await using var maintenance = await connector.OpenMaintenanceAsync(server, ct);
        var catalog = new ServerCatalog(maintenance);
        foreach (var old in Enumerable.Range(1, round - 1).Select(i => $"{Live}_restore_{i}"))
        {
            await catalog.DropIfExistsAsync(old, ct);
        }

        await using (var create = new NpgsqlCommand($"CREATE DATABASE {PgQuote.Identifier(copy)} TEMPLATE template0", maintenance))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        await using var checkpoint = new NpgsqlCommand("CHECKPOINT", maintenance);
        await checkpoint.ExecuteNonQueryAsync(ct);
        return copy;
    }

    private static async Task<ChangeCounts> EditLiveAsync(PgConnector connector, DbServerInfo server, CancellationToken ct)
    {
        await using var connection = await connector.OpenAsync(server, Live, ct);
        long inserted = 0, deleted = 0, updated = 0;
        foreach (var (category, sql) in Edits)
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
            var rows = await command.ExecuteNonQueryAsync(ct);
            _ = category switch
            {
                "insert" => inserted += rows,
                "delete" => deleted += rows,
                _ => updated += rows,
            };
        }

        await using var analyze = new NpgsqlCommand("VACUUM ANALYZE", connection) { CommandTimeout = 0 };
        await analyze.ExecuteNonQueryAsync(ct);
        return new ChangeCounts(inserted, deleted, updated);
    }

    private static async Task CheckpointAsync(PgConnector connector, DbServerInfo server, CancellationToken ct)
    {
        await using var maintenance = await connector.OpenMaintenanceAsync(server, ct);
        await using var checkpoint = new NpgsqlCommand("CHECKPOINT", maintenance);
        await checkpoint.ExecuteNonQueryAsync(ct);
    }

    // The machine may be shared: its 1/5/15-minute load averages say how much else ran beside the benchmark.
    private static string? LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : null;
}
