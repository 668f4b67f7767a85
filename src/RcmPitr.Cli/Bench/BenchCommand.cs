using System.CommandLine;
using System.Globalization;

namespace RcmPitr.Cli.Bench;

/// <summary><c>rcm-pitr bench transfer</c>: the data-movement benchmark.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output)
    {
        var size = new Option<int>("--size-mb") { Description = "Approximate size of the generated tenant database (default 1024)", DefaultValueFactory = _ => 1024 };
        var rounds = new Option<int>("--rounds") { Description = "Measured rounds after the warm-up (at least 3)", DefaultValueFactory = _ => 3 };
        var jobs = new Option<int>("--jobs") { Description = "Parallel jobs of the parallel and streaming modes (default: the core count)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the result as JSON to this file" };
        var workMem = new Option<int>("--maintenance-work-mem-mb") { Description = "maintenance_work_mem of the tuned loading sessions (default 256)", DefaultValueFactory = _ => 256 };
        var ginMem = new Option<int>("--gin-work-mem-mb") { Description = "maintenance_work_mem of the streaming mode's GIN index builds (default 16)", DefaultValueFactory = _ => 16 };
        var trace = new Option<bool>("--trace") { Description = "Print what the last streaming run did when (copies and builds), to find its critical path" };
        var transfer = new Command("transfer", "Move a generated tenant database between two local clusters with every mode and the raw-COPY floor; verify each run.") { size, rounds, jobs, json, workMem, ginMem, trace };
        transfer.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(rounds) < 3 || parse.GetValue(size) < 1)
            {
                throw new CliUsageException("--rounds must be at least 3 and --size-mb at least 1");
            }

            var result = await new TransferBenchmark(output, parse.GetValue(size), parse.GetValue(rounds), parse.GetValue(jobs), parse.GetValue(workMem))
            {
                GinMaintenanceWorkMemMb = parse.GetValue(ginMem),
                Trace = parse.GetValue(trace),
            }.RunAsync(ct);
            await output.WriteLineAsync();
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"database {result.DatabaseBytes / 1048576.0:0} MB, PostgreSQL {result.PostgresMajor}, {result.Cores} cores, {result.Rounds} rounds; floor median {result.FloorSeconds:0.00} s"));
            await output.WriteLineAsync($"{"mode",-10} {"median s",9} {"vs runbook",11} {"vs floor",9} {"peak scratch",14} {"peak memory",13} verified");
            foreach (var mode in result.Modes)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{mode.Name,-10} {mode.MedianSeconds,9:0.00} {mode.SpeedupVsRunbook,10:0.00}x {mode.RatioToFloor,8:0.00}x {mode.PeakScratchBytes / 1048576.0,11:0.0} MB {mode.PeakMemoryBytes / 1048576.0,10:0.0} MB {mode.Verified}"));
            }

            if (parse.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, TransferBenchmark.ToJson(result), ct);
            }

            return result.Modes.All(m => m.Verified) ? 0 : 1;
        });
        var bench = new Command("bench", "Benchmarks.");
        bench.Subcommands.Add(transfer);
        return bench;
    }
}
