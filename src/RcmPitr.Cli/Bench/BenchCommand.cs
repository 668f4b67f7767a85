using System.CommandLine;
using System.Globalization;
using RcmPitr.Postgres.Operations;

namespace RcmPitr.Cli.Bench;

/// <summary><c>rcm-pitr bench transfer</c>: the data-movement benchmark; <c>rcm-pitr bench changes</c>: the change report's.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output)
    {
        var size = new Option<int>("--size-mb") { Description = "Approximate size of the generated tenant database (default 1024)", DefaultValueFactory = _ => 1024 };
        var rounds = new Option<int>("--rounds") { Description = "Measured rounds after the warm-up (at least 3)", DefaultValueFactory = _ => 3 };
        var jobs = new Option<int>("--jobs") { Description = "Parallel jobs of the parallel and streaming modes (default: the core count)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the result as JSON to this file" };
        var workMem = new Option<int>("--maintenance-work-mem-mb") { Description = "maintenance_work_mem of the tuned loading sessions (default 256)", DefaultValueFactory = _ => 256 };
        var ginMem = new Option<int>("--gin-work-mem-mb") { Description = "maintenance_work_mem of the streaming mode's GIN index builds, and of the measuring pass's (default 16)", DefaultValueFactory = _ => 16 };
        var pace = new Option<double>("--pace-beside-gin") { Description = "The streaming mode's DataMover:PaceCopiesBesideGin: how much its copies slow beside a GIN build while they have time to spare; 0 never (default 0, as the product's)", DefaultValueFactory = _ => 0 };
        var unpaced = new Option<bool>("--compare-unpaced") { Description = $"Also run the streaming mode with its copies never paced, as one more mode ({TransferBenchmark.UnpacedStreaming}) of every round" };
        var yieldNice = new Option<int>("--yield-cpu-beside-gin") { Description = "The streaming mode's DataMover:YieldCpuBesideGin: the nice this process's session takes while a GIN build runs on the (local) target; 0 never (default 19, as the product's)", DefaultValueFactory = _ => new DataMoverOptions().YieldCpuBesideGin };
        var noYield = new Option<bool>("--compare-no-yield") { Description = $"Also run the streaming mode without stepping back beside GIN builds, as one more mode ({TransferBenchmark.NoYieldStreaming}) of every round" };
        var trace = new Option<bool>("--trace") { Description = "Print what the last run of the streaming mode did when (copies and builds; never a compared run), to find its critical path" };
        var transfer = new Command("transfer", "Move a generated tenant database between two local clusters with every mode, verify each run, and compare with the limit computed from each copy and build measured alone.") { size, rounds, jobs, json, workMem, ginMem, pace, unpaced, yieldNice, noYield, trace };
        transfer.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(rounds) < 3 || parse.GetValue(size) < 1)
            {
                throw new CliUsageException("--rounds must be at least 3 and --size-mb at least 1");
            }

            if (!(parse.GetValue(pace) is >= 0 and <= 10))
            {
                throw new CliUsageException("--pace-beside-gin must be between 0 and 10");
            }

            if (parse.GetValue(yieldNice) is < 0 or > 19)
            {
                throw new CliUsageException("--yield-cpu-beside-gin must be between 0 and 19");
            }

            var result = await new TransferBenchmark(output, parse.GetValue(size), parse.GetValue(rounds), parse.GetValue(jobs), parse.GetValue(workMem))
            {
                GinMaintenanceWorkMemMb = parse.GetValue(ginMem),
                PaceCopiesBesideGin = parse.GetValue(pace),
                CompareUnpaced = parse.GetValue(unpaced),
                YieldCpuBesideGin = parse.GetValue(yieldNice),
                CompareNoYield = parse.GetValue(noYield),
                Trace = parse.GetValue(trace),
            }.RunAsync(ct);
            await output.WriteLineAsync();
            await WriteTransferSummaryAsync(output, result);
            if (parse.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, TransferBenchmark.ToJson(result), ct);
            }

            return result.LimitPassVerified && result.Modes.All(m => m.Verified) ? 0 : 1;
        });
        var bench = new Command("bench", "Benchmarks.");
        bench.Subcommands.Add(transfer);
        bench.Subcommands.Add(CreateChanges(output));
        bench.Subcommands.Add(CreateBatch(output));
        return bench;
    }

    private static async Task WriteTransferSummaryAsync(TextWriter output, BenchmarkResult result)
    {
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"database {result.DatabaseBytes / 1048576.0:0} MB, PostgreSQL {result.PostgresMajor}, {result.Cores} cores, {result.Rounds} rounds"));
        await output.WriteLineAsync("each item alone, median over the rounds' measuring passes:");
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {"schema (pre-data dump and restore)",-72} {result.SchemaSeconds,6:0.00} s"));
        foreach (var item in result.Items)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  {TransferLimit.Describe(item),-72} {item.WallSeconds,6:0.00} s  {item.CpuSeconds,6:0.00} CPU-s"));
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"limit by round: {string.Join(", ", result.LimitSecondsByRound.Select(s => s.ToString("0.00", CultureInfo.InvariantCulture)))} s"));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"limit {result.LimitSeconds:0.00} s = schema {result.SchemaSeconds:0.00} s + max(critical path {result.CriticalPathSeconds:0.00} s, work {result.WorkCpuSeconds:0.00} CPU-s / {result.Cores} cores = {result.WorkPerCoreSeconds:0.00} s); Graham's upper bound {result.GrahamUpperSeconds:0.00} s{(result.LimitPassVerified ? string.Empty : "; MEASURING PASS NOT VERIFIED")}"));
        await output.WriteLineAsync("critical path:");
        foreach (var step in result.CriticalPath)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {step.Seconds,7:0.00} s  {step.Item}"));
        }

        await output.WriteLineAsync($"{"mode",-17} {"median s",9} {"vs runbook",11} {"vs limit",9} {"idle core-s",12} {"peak scratch",14} {"peak memory",13} verified  vs each round's limit");
        foreach (var mode in result.Modes)
        {
            var idle = mode.IdleCoreSeconds is { } seconds ? seconds.ToString("0.00", CultureInfo.InvariantCulture) : "-";
            var byRound = string.Join(" ", mode.VsLimitByRound.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{mode.Name,-17} {mode.MedianSeconds,9:0.00} {mode.SpeedupVsRunbook,10:0.00}x {mode.VsLimit,8:0.00}x {idle,12} {mode.PeakScratchBytes / 1048576.0,11:0.0} MB {mode.PeakMemoryBytes / 1048576.0,10:0.0} MB {mode.Verified,-8}  {byRound}"));
        }
    }

    private static Command CreateBatch(TextWriter output)
    {
        var tenants = new Option<int>("--tenants") { Description = "Tenants restored to one time (default 3; the local environment's two plus generated ones)", DefaultValueFactory = _ => 3 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of both ways, alternating which goes first (at least 3)", DefaultValueFactory = _ => 3 };
        var home = new Option<string?>("--home") { Description = "Local environment to use (default: a fresh one in a temporary folder, removed afterwards)" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the result as JSON to this file" };
        var batch = new Command("batch", "Dry-run N tenants of one local server to one time one by one (a restored server each) and as one batch (one shared server); count provisionings, time both.")
        {
            tenants, rounds, home, json,
        };
        batch.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(rounds) < 3 || parse.GetValue(tenants) < 2)
            {
                throw new CliUsageException("--rounds must be at least 3 and --tenants at least 2");
            }

            var result = await new BatchBenchmark(output, parse.GetValue(tenants), parse.GetValue(rounds)).RunAsync(parse.GetValue(home), ct);
            await output.WriteLineAsync();
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{result.Tenants} tenants, {result.Rounds} rounds, {result.Cores} cores: one by one {result.OneByOneProvisioningsPerRound:0.#} provisionings and median {result.OneByOneMedianSeconds:0.0} s; " +
                $"batch {result.BatchProvisioningsPerRound:0.#} provisioning(s) and median {result.BatchMedianSeconds:0.0} s; ratio {result.BatchToOneByOneRatio:0.00}; one local provisioning median {result.ProvisioningMedianSeconds:0.0} s"));
            if (parse.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, BatchBenchmark.ToJson(result), ct);
            }

            return result.AllSucceeded ? 0 : 1;
        });
        return batch;
    }

    private static Command CreateChanges(TextWriter output)
    {
        var size = new Option<int>("--size-mb") { Description = "Approximate size of the generated tenant database (default 1024)", DefaultValueFactory = _ => 1024 };
        var rounds = new Option<int>("--rounds") { Description = "Measured rounds of the comparison and of the transfer (at least 3)", DefaultValueFactory = _ => 3 };
        var jobs = new Option<int>("--jobs") { Description = "Parallel jobs of the streaming transfer (default: the core count)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var parallelism = new Option<int>("--parallelism") { Description = "Tables compared at once (default 2, as Changes:Parallelism)", DefaultValueFactory = _ => 2 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the result as JSON to this file" };
        var changes = new Command("changes", "Copy a generated tenant database with the streaming mover, change about 1 % of live's rows, then compare live with the copy; check the counts.")
        {
            size, rounds, jobs, parallelism, json,
        };
        changes.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(rounds) < 3 || parse.GetValue(size) < 1 || parse.GetValue(parallelism) < 1)
            {
                throw new CliUsageException("--rounds must be at least 3, --size-mb and --parallelism at least 1");
            }

            var result = await new ChangesBenchmark(output, parse.GetValue(size), parse.GetValue(rounds), parse.GetValue(jobs), parse.GetValue(parallelism)).RunAsync(ct);
            await output.WriteLineAsync();
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"database {result.DatabaseBytes / 1048576.0:0} MB, {result.Rows} rows, PostgreSQL {result.PostgresMajor}, {result.Cores} cores, {result.Rounds} rounds; {result.Expected.Total} rows changed ({result.ChangedPercent:0.00} %)"));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"comparison median {result.CompareMedianSeconds:0.00} s (peak memory {result.ComparePeakMemoryBytes / 1048576.0:0.0} MB), streaming transfer median {result.TransferMedianSeconds:0.00} s, ratio {result.CompareToTransferRatio:0.00}; counts {(result.CountsMatch ? "match the edits" : "DO NOT match the edits")}"));
            if (parse.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, ChangesBenchmark.ToJson(result), ct);
            }

            return result.CountsMatch ? 0 : 1;
        });
        return changes;
    }
}
