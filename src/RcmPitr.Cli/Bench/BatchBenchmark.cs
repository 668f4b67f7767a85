using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Host;
using RcmPitr.Local;
using RcmPitr.Postgres.Processes;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Cli.Bench;

/// <summary>One way of restoring every tenant in one round.</summary>
/// <param name="Provisionings">Restored servers created (each a point-in-time restore of the live cluster).</param>
/// <param name="ProvisioningSeconds">Time from each creating acquire to the server accepting connections, per provisioning.</param>
internal sealed record BatchBenchmarkRound(string Way, int Round, double WallSeconds, int Provisionings, IReadOnlyList<double> ProvisioningSeconds, int Succeeded);

/// <summary>The batch benchmark's result (the JSON of <c>--json</c>).</summary>
internal sealed record BatchBenchmarkResult(
    string Machine,
    int Cores,
    int Tenants,
    int Rounds,
    IReadOnlyList<BatchBenchmarkRound> Runs,
    double OneByOneMedianSeconds,
    double BatchMedianSeconds,
    double BatchToOneByOneRatio,
    double OneByOneProvisioningsPerRound,
    double BatchProvisioningsPerRound,
    double ProvisioningMedianSeconds,
    bool AllSucceeded);

/// <summary>
/// Restores N tenants of one local live cluster to one time (dry runs: every step but freeze, approval and cutover) in two
/// ways, alternating their order round by round: one run after the other, each provisioning its own restored server, and one
/// batch, whose members share the batch's server. Counts the provisionings each way took and times both.
/// </summary>
internal sealed class BatchBenchmark(TextWriter output, int tenants, int rounds)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public async Task<BatchBenchmarkResult> RunAsync(string? home, CancellationToken ct)
    {
        var root = home ?? Path.Combine(Path.GetTempPath(), "rcm-pitr-bench-batch-" + Guid.NewGuid().ToString("N")[..8]);
        var environment = new LocalEnvironment(new LocalLayout(root), new ProcessRunner(), TimeProvider.System);
        try
        {
            return await RunAsync(environment, ct);
        }
        finally
        {
            if (home is null)
            {
                await environment.DownAsync(purge: true, TextWriter.Null, CancellationToken.None);
            }
        }
    }

    private async Task<BatchBenchmarkResult> RunAsync(LocalEnvironment environment, CancellationToken ct)
    {
        await Say($"local environment in {environment.Layout.Home}");
        var (state, _) = await environment.UpAsync(TextWriter.Null, ct);
        var live = environment.LiveServer(state);
        var slugs = new List<string> { "acme", "globex-health" };
        for (var i = slugs.Count + 1; i <= tenants; i++)
        {
            var slug = $"bench-tenant-{i}";
            if (!await TenantExistsAsync(environment, state, slug, ct))
            {
                await environment.AddTenantAsync(state, slug, members: 600, claimLines: 12_000, TextWriter.Null, ct);
            }

            slugs.Add(slug);
        }

        slugs = slugs.Take(tenants).ToList();
        // T: a whole second after a write to every tenant, once it has passed.
        foreach (var slug in slugs)
        {
            await using var connection = await environment.Connector.OpenAsync(live, TenantDatabaseNames.For(TenantSlug.Parse(slug)).Canonical, ct);
            await using var write = new NpgsqlCommand("UPDATE members.member SET plan = plan WHERE id = 1", connection);
            await write.ExecuteNonQueryAsync(ct);
        }

        var now = TimeProvider.System.GetUtcNow();
        var restoreTime = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
        await Task.Delay(restoreTime.AddMilliseconds(1100) - TimeProvider.System.GetUtcNow(), ct);
        await Say($"{slugs.Count} tenants ({string.Join(", ", slugs)}); restore time {restoreTime:O}");

        await using var app = RcmPitrApp.Build([], environment.Layout.HostConfig, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            // The runbook's 30 s cache wait is not what is measured here; provisioning is.
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["RcmPitr:Restore:StatusCacheTtl"] = "00:00:01",
                ["RcmPitr:Restore:FirstPollInterval"] = "00:00:01",
                ["RcmPitr:Restore:MaxPollInterval"] = "00:00:01",
                ["RcmPitr:Batch:PollInterval"] = "00:00:01",
                // Every round starts N + 1 runs as one principal: more than the default starts per hour.
                ["RcmPitr:RateLimit:StartsPerWindow"] = "1000",
            });
        });
        await app.StartAsync(ct);
        var runs = new List<BatchBenchmarkRound>();
        try
        {
            using var alice = new HttpClient { BaseAddress = new Uri(state.ApiUrl), Timeout = TimeSpan.FromMinutes(5) };
            alice.DefaultRequestHeaders.Add("x-functions-key", (await File.ReadAllTextAsync(environment.Layout.KeyFile("alice"), ct)).Trim());
            var to = restoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            for (var round = 1; round <= rounds; round++)
            {
                // Alternate which way goes first, so drift of the machine falls on both.
                var batchFirst = round % 2 == 0;
                for (var leg = 0; leg < 2; leg++)
                {
                    var run = (leg == 0) == batchFirst
                        ? await BatchAsync(alice, slugs, to, round, ct)
                        : await OneByOneAsync(alice, slugs, to, round, ct);
                    runs.Add(run);
                    await Say(string.Create(CultureInfo.InvariantCulture,
                        $"round {round} {run.Way}: {run.WallSeconds:0.0} s, {run.Provisionings} provisioning(s) ({string.Join(", ", run.ProvisioningSeconds.Select(s => s.ToString("0.0", CultureInfo.InvariantCulture)))} s), {run.Succeeded}/{slugs.Count} succeeded"));
                }
            }
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }

        var oneByOne = runs.Where(r => r.Way == "one by one").ToList();
        var batch = runs.Where(r => r.Way == "batch").ToList();
        var oneMedian = Median(oneByOne.Select(r => r.WallSeconds));
        var batchMedian = Median(batch.Select(r => r.WallSeconds));
        return new BatchBenchmarkResult(
            System.Environment.MachineName,
            System.Environment.ProcessorCount,
            slugs.Count,
            rounds,
            runs,
            oneMedian,
            batchMedian,
            batchMedian / oneMedian,
            oneByOne.Average(r => r.Provisionings),
            batch.Average(r => r.Provisionings),
            Median(runs.SelectMany(r => r.ProvisioningSeconds)),
            runs.All(r => r.Succeeded == slugs.Count));
    }

    public static string ToJson(BatchBenchmarkResult result) =>
        JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });

    private static async Task<BatchBenchmarkRound> OneByOneAsync(HttpClient client, IReadOnlyList<string> slugs, string to, int round, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var provisionings = new List<double>();
        var succeeded = 0;
        foreach (var slug in slugs)
        {
            using var response = await client.PostAsJsonAsync("/api/restores", new { tenant = slug, restoreTime = to, mode = "dry-run", reason = "batch benchmark, one by one" }, ct);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"the dry run of {slug} was not accepted: {ApiClient.Describe(response.StatusCode, body)}");
            }

            var run = await WaitAsync(client, $"/api/restores/{body.GetProperty("id").GetString()}", ct);
            succeeded += Outcome(run) == "DryRunCompleted" ? 1 : 0;
            provisionings.AddRange(ProvisioningsOf(run));
        }

        return new BatchBenchmarkRound("one by one", round, clock.Elapsed.TotalSeconds, provisionings.Count, provisionings, succeeded);
    }

    private static async Task<BatchBenchmarkRound> BatchAsync(HttpClient client, IReadOnlyList<string> slugs, string to, int round, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var response = await client.PostAsJsonAsync(
            "/api/restore-batches", new { tenants = slugs, restoreTime = to, mode = "dry-run", reason = "batch benchmark, one batch", parallelism = slugs.Count }, ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"the batch was not accepted: {ApiClient.Describe(response.StatusCode, body)}");
        }

        var batch = await WaitAsync(client, $"/api/restore-batches/{body.GetProperty("id").GetString()}", ct);
        var wall = clock.Elapsed.TotalSeconds;
        var output = batch.GetProperty("output");
        var members = new List<JsonElement>();
        foreach (var member in output.GetProperty("members").EnumerateArray())
        {
            members.Add(await client.GetFromJsonAsync<JsonElement>($"/api/restores/{member.GetProperty("runId").GetString()}", ct));
        }

        // The batch created its server (its own acquire); a member that found none would have created one too.
        var provisionings = members.SelectMany(ProvisioningsOf).ToList();
        var created = output.GetProperty("servers").EnumerateArray().Count(s => s.GetProperty("detail").GetString()?.StartsWith("created for this batch", StringComparison.Ordinal) == true);
        if (created > 0)
        {
            // From the batch's start to the first member seeing the server ready: the shared provisioning.
            var readyAt = members.Select(m => StepEnd(m, "wait for restored server")).Where(t => t is not null).Min();
            provisionings.Add(readyAt is { } ready ? (ready - batch.GetProperty("createdTime").GetDateTime()).TotalSeconds : double.NaN);
        }

        var succeeded = members.Count(m => Outcome(m) == "DryRunCompleted");
        return new BatchBenchmarkRound("batch", round, wall, provisionings.Count, provisionings, succeeded);
    }

    // A run's own provisioning: its acquire created the server; it lasted until the server was ready.
    private static IEnumerable<double> ProvisioningsOf(JsonElement run)
    {
        var steps = run.GetProperty("customStatus").GetProperty("steps").EnumerateArray().ToList();
        var acquire = steps.FirstOrDefault(s => s.GetProperty("name").GetString() == "start point-in-time restore");
        if (acquire.ValueKind == JsonValueKind.Object && acquire.GetProperty("detail").GetString()?.EndsWith("(created)", StringComparison.Ordinal) == true &&
            StepEnd(run, "wait for restored server") is { } ready)
        {
            yield return (ready - acquire.GetProperty("startedAt").GetDateTime()).TotalSeconds;
        }
    }

    private static DateTime? StepEnd(JsonElement run, string step) =>
        run.GetProperty("customStatus").GetProperty("steps").EnumerateArray()
            .Where(s => s.GetProperty("name").GetString() == step && s.GetProperty("endedAt").ValueKind == JsonValueKind.String)
            .Select(s => (DateTime?)s.GetProperty("endedAt").GetDateTime())
            .FirstOrDefault();

    private static string? Outcome(JsonElement run) =>
        run.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.Object && o.TryGetProperty("outcome", out var outcome) ? outcome.GetString() : null;

    private static async Task<JsonElement> WaitAsync(HttpClient client, string path, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(20));
        while (true)
        {
            using var response = await client.GetAsync(path, timeout.Token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return await response.Content.ReadFromJsonAsync<JsonElement>(timeout.Token);
            }

            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"GET {path}: HTTP {(int)response.StatusCode}");
            }

            await Task.Delay(250, timeout.Token);
        }
    }

    private static async Task<bool> TenantExistsAsync(LocalEnvironment environment, LocalState state, string slug, CancellationToken ct)
    {
        await using var master = await environment.Connector.OpenAsync(environment.LiveServer(state), state.MasterDatabase, ct);
        await using var command = new NpgsqlCommand("SELECT 1 FROM identity.tenant WHERE slug = $1", master);
        command.Parameters.Add(new NpgsqlParameter { Value = slug });
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    private static double Median(IEnumerable<double> values)
    {
        var measured = values.Where(v => !double.IsNaN(v)).ToList();
        return measured.Count == 0 ? double.NaN : BenchStatistics.Median(measured);
    }

    private Task Say(string text) => output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0}s] {text}"));
}
