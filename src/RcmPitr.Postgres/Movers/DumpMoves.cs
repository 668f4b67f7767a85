using RcmPitr.Postgres.Operations;

namespace RcmPitr.Postgres.Movers;

/// <summary>The runbook's exact commands (<see cref="RunbookCommands"/>): <c>pg_dump -Fc -Z 6</c> to a file, one-job <c>pg_restore</c>.</summary>
internal sealed class RunbookMove(MoveTools tools, DataMoverOptions options) : IMoveMode
{
    public async Task<ModeOutcome> MoveAsync(MoveContext context, CancellationToken ct)
    {
        var (request, meter) = (context.Request, context.Meter);
        var file = Path.Combine(context.Scratch, "tenant.dump");
        meter.Enter(MovePhases.Dump, context.Scratch);
        await tools.PgDumpAsync(request, [.. RunbookCommands.DumpArguments(options.CompressionLevel), $"--file={file}"], ct);
        var size = new FileInfo(file).Length;
        meter.SetBytes(size);
        meter.Enter(MovePhases.Restore);
        await tools.PgRestoreAsync(request, context.Session, [.. RunbookCommands.RestoreArguments, $"--jobs={Math.Max(1, options.RestoreJobs)}", file], maintenanceWorkMemMb: null, ct);
        return new ModeOutcome(size, size, await SourceTables.CountAsync(tools, request, ct));
    }
}

/// <summary>Directory format, uncompressed, <c>pg_dump -j</c> / <c>pg_restore -j</c> with tuned loading sessions.</summary>
internal sealed class ParallelMove(MoveTools tools, DataMoverOptions options) : IMoveMode
{
    public async Task<ModeOutcome> MoveAsync(MoveContext context, CancellationToken ct)
    {
        var (request, meter) = (context.Request, context.Meter);
        var directory = Path.Combine(context.Scratch, "tenant.dir");
        var jobs = TenantMover.Jobs(request);
        meter.Enter(MovePhases.Dump, context.Scratch);
        await tools.PgDumpAsync(request, ["--format=directory", "--compress=0", $"--jobs={jobs}", $"--file={directory}"], ct);
        var size = MoveMeter.FolderBytes(directory);
        meter.SetBytes(size);
        meter.Enter(MovePhases.Restore);
        await tools.PgRestoreAsync(request, context.Session, [.. MoveTools.RestoreArguments, $"--jobs={jobs}", directory], options.RestoreMaintenanceWorkMemMb, ct);
        return new ModeOutcome(size, size, await SourceTables.CountAsync(tools, request, ct));
    }
}
