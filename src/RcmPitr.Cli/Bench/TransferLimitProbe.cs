using System.Diagnostics;
using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Movers;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Cli.Bench;

/// <summary>
/// The benchmark's measuring pass: into an empty target database it creates the schema (timed), copies each table alone
/// (timed, one connection pair and, for big tables, page ranges side by side), then builds each index and constraint
/// alone on the loaded tables, single-threaded (timed), and returns every item with its wall and CPU seconds. CPU counts
/// the server backends doing the work (both ends for a copy, plus this process relaying it).
/// </summary>
internal sealed class TransferLimitProbe(
    PgConnector connector, PgToolLocator tools, IProcessRunner processes, CpuClock cpu, int jobs, int maintenanceWorkMemMb, int ginWorkMemMb)
{
    /// <summary>Tables with at least this much heap are also timed in page ranges, as the streaming mode may split them.</summary>
    public const long SplitTriedFromBytes = 64L << 20;

    /// <summary>Measures every item; the target database must exist and be empty.</summary>
    public async Task<(double SchemaSeconds, IReadOnlyList<LimitItem> Items)> MeasureAsync(
        DbServerInfo source, string sourceDatabase, DbServerInfo target, string targetDatabase, string scratch, CancellationToken ct)
    {
        var schemaSeconds = await SchemaAsync(source, sourceDatabase, target, targetDatabase, scratch, ct);
        LimitCatalog catalog;
        await using (var connection = await connector.OpenAsync(source, sourceDatabase, ct))
        {
            catalog = await LimitCatalog.ReadAsync(connection, ct);
        }

        var items = new List<LimitItem>();
        foreach (var table in catalog.Tables)
        {
            items.Add(await CopyAsync(source, sourceDatabase, target, targetDatabase, table, ct));
        }

        await using var builder = await connector.OpenAsync(target, targetDatabase, ct);
        await ExecuteAsync(builder, "SET synchronous_commit = off; SET max_parallel_maintenance_workers = 0", ct);
        var pid = await BackendPidAsync(builder, ct);
        foreach (var build in catalog.Builds)
        {
            var memory = build.Gin ? ginWorkMemMb : maintenanceWorkMemMb;
            await ExecuteAsync(builder, string.Create(CultureInfo.InvariantCulture, $"SET maintenance_work_mem = '{memory}MB'"), ct);
            // Each build starts with nothing left to flush from the ones before it.
            await ExecuteAsync(builder, "CHECKPOINT", ct);
            var before = cpu.ProcessSeconds(pid);
            var clock = Stopwatch.StartNew();
            await ExecuteAsync(builder, build.Sql, ct);
            var wall = clock.Elapsed.TotalSeconds;
            items.Add(new LimitItem(build.Kind, build.Name, build.Table, wall, cpu.ProcessSeconds(pid) - before, build.References, build.ReferencedKey));
        }

        await CopySequencesAsync(source, sourceDatabase, builder, ct);
        return (schemaSeconds, items);
    }

    private async Task<double> SchemaAsync(DbServerInfo source, string sourceDatabase, DbServerInfo target, string targetDatabase, string scratch, CancellationToken ct)
    {
        // As the streaming mode creates it: pg_dump's pre-data section, restored without owners or privileges.
        var file = Path.Combine(scratch, "pre-data.dump");
        var pgDump = await tools.LocateAsync("pg_dump", source.MajorVersion, ct);
        var pgRestore = await tools.LocateAsync("pg_restore", target.MajorVersion, ct);
        using var sourceEnvironment = await PgToolEnvironment.CreateAsync(connector, source, ct);
        using var targetEnvironment = await PgToolEnvironment.CreateAsync(connector, target, ct);
        var clock = Stopwatch.StartNew();
        await RunAsync("pg_dump", new ProcessSpec(pgDump.Path, ["--no-password", $"--dbname={sourceDatabase}", "--format=custom", "--section=pre-data", $"--file={file}"], sourceEnvironment.Variables), ct);
        await RunAsync("pg_restore", new ProcessSpec(pgRestore.Path, ["--no-password", $"--dbname={targetDatabase}", "--no-owner", "--no-privileges", "--exit-on-error", file], targetEnvironment.Variables), ct);
        var seconds = clock.Elapsed.TotalSeconds;
        File.Delete(file);
        return seconds;
    }

    private async Task RunAsync(string tool, ProcessSpec spec, CancellationToken ct)
    {
        var result = await processes.RunAsync(spec, ct);
        if (result.ExitCode != 0)
        {
            throw PgToolFailures.For(tool, result.ExitCode, result.StandardError);
        }
    }

    /// <summary>The table's copy alone: one connection pair, and for a big table also <c>jobs</c> page ranges side by side; the faster counts.</summary>
    private async Task<LimitItem> CopyAsync(DbServerInfo source, string sourceDatabase, DbServerInfo target, string targetDatabase, LimitCatalog.Table table, CancellationToken ct)
    {
        List<(long From, long? To)?> whole = [null];
        var best = await CopyTriedAsync(whole);
        if (table.Bytes >= SplitTriedFromBytes && jobs >= 2 && source.MajorVersion >= 14)
        {
            var ranges = Enumerable.Range(0, jobs)
                .Select(i => ((long From, long? To)?)(table.Pages * i / jobs, i == jobs - 1 ? null : table.Pages * (i + 1) / jobs))
                .ToList();
            var split = await CopyTriedAsync(ranges);
            if (split.WallSeconds < best.WallSeconds)
            {
                best = split;
            }
        }

        return best;

        async Task<LimitItem> CopyTriedAsync(List<(long From, long? To)?> parts)
        {
            await using (var maintenance = await connector.OpenAsync(target, targetDatabase, ct))
            {
                // Every try starts from an empty table and nothing left to flush.
                await ExecuteAsync(maintenance, $"TRUNCATE {table.Quoted}", ct);
                await ExecuteAsync(maintenance, "CHECKPOINT", ct);
            }

            var pairs = new List<(NpgsqlConnection From, NpgsqlConnection To)>();
            try
            {
                var pids = new List<int>();
                foreach (var _ in parts)
                {
                    var from = await connector.OpenAsync(source, sourceDatabase, ct);
                    var to = await connector.OpenAsync(target, targetDatabase, ct);
                    pairs.Add((from, to));
                    await ExecuteAsync(to, "SET synchronous_commit = off", ct);
                    pids.Add(await BackendPidAsync(from, ct));
                    pids.Add(await BackendPidAsync(to, ct));
                }

                var cpuBefore = cpu.ProcessSeconds(pids) + CpuClock.OwnSeconds();
                var clock = Stopwatch.StartNew();
                await Task.WhenAll(parts.Select((range, i) => CopyPartAsync(pairs[i].From, pairs[i].To, table, range, ct)));
                var wall = clock.Elapsed.TotalSeconds;
                var cpuSeconds = cpu.ProcessSeconds(pids) + CpuClock.OwnSeconds() - cpuBefore;
                var name = parts.Count == 1 ? table.Name : string.Create(CultureInfo.InvariantCulture, $"{table.Name} in {parts.Count} page ranges");
                return new LimitItem(LimitItem.Copy, name, table.Name, wall, cpuSeconds);
            }
            finally
            {
                foreach (var (from, to) in pairs)
                {
                    await from.DisposeAsync();
                    await to.DisposeAsync();
                }
            }
        }
    }

    private static async Task CopyPartAsync(NpgsqlConnection source, NpgsqlConnection target, LimitCatalog.Table table, (long From, long? To)? range, CancellationToken ct)
    {
        // As the streaming mode copies, with its code: a range is a ctid page range.
        var read = CopyRelay.ReadSql(table.Quoted, table.Columns, range?.From, range is { } r ? r.To : null);
        await CopyRelay.RunAsync(source, read, target, CopyRelay.WriteSql(table.Quoted, table.Columns, freeze: false), new byte[CopyRelay.BufferBytes], null, ct);
    }

    private async Task CopySequencesAsync(DbServerInfo source, string sourceDatabase, NpgsqlConnection target, CancellationToken ct)
    {
        // Not timed and not part of the limit (a few statements): only so that the pass's database can be verified whole.
        await using var connection = await connector.OpenAsync(source, sourceDatabase, ct);
        await SourceTables.CopySequencesAsync(connection, null, target, ct);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<int> BackendPidAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        return (int)(await command.ExecuteScalarAsync(ct))!;
    }
}
