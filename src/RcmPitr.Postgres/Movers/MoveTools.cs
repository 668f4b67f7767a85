using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// What every transfer mode shares: pg_dump and pg_restore run with the servers' own tool versions and their passwords in
/// a private password file (never in argv), connections, and the loading sessions' settings.
/// </summary>
internal sealed class MoveTools(PgConnector connector, PgToolLocator tools, IProcessRunner processes, LoadingSessions sessions)
{
    /// <summary>The arguments every restore of a move gets: no owners, no privileges (as the runbook), stop at the first error.</summary>
    public static readonly string[] RestoreArguments = ["--no-owner", "--no-privileges", "--exit-on-error"];

    public PgConnector Connector => connector;

    public LoadingSessions Sessions => sessions;

    public async Task PgDumpAsync(MoveRequest request, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var pgDump = await tools.LocateAsync("pg_dump", request.Source.MajorVersion, ct);
        using var environment = await PgToolEnvironment.CreateAsync(connector, request.Source, ct);
        await RunAsync("pg_dump", new ProcessSpec(pgDump.Path, ["--no-password", $"--dbname={request.SourceDatabase}", .. arguments], environment.Variables), ct);
    }

    /// <summary>
    /// pg_restore into the target. <paramref name="maintenanceWorkMemMb"/>, when given, makes it a loading session:
    /// that memory for its builds and, where the server allows it, no wait for WAL flushes at commit.
    /// </summary>
    public async Task PgRestoreAsync(MoveRequest request, LoadingSession session, IReadOnlyList<string> arguments, int? maintenanceWorkMemMb, CancellationToken ct)
    {
        var pgRestore = await tools.LocateAsync("pg_restore", request.Target.MajorVersion, ct);
        using var environment = await PgToolEnvironment.CreateAsync(connector, request.Target, ct);
        var variables = new Dictionary<string, string>(environment.Variables);
        if (maintenanceWorkMemMb is { } memory)
        {
            // The loading sessions only: the new database is not live until cutover, and a crash mid-load redoes it.
            variables["PGOPTIONS"] = string.Create(CultureInfo.InvariantCulture, $"{(session.RelaxedCommit ? "-c synchronous_commit=off " : string.Empty)}-c maintenance_work_mem={memory}MB");
        }

        await RunAsync("pg_restore", new ProcessSpec(pgRestore.Path, ["--no-password", $"--dbname={request.TargetDatabase}", .. arguments], variables), ct);
    }

    /// <summary>pg_restore without a connection: the table of contents (<c>--list</c>) or the SQL of a dump, into <paramref name="output"/>.</summary>
    public async Task PgRestoreToFileAsync(MoveRequest request, IReadOnlyList<string> arguments, string output, CancellationToken ct)
    {
        var pgRestore = await tools.LocateAsync("pg_restore", request.Target.MajorVersion, ct);
        await RunAsync("pg_restore", new ProcessSpec(pgRestore.Path, [.. arguments, $"--file={output}"]), ct);
    }

    public Task<NpgsqlConnection> OpenSourceAsync(MoveRequest request, CancellationToken ct) => connector.OpenAsync(request.Source, request.SourceDatabase, ct);

    public Task<NpgsqlConnection> OpenTargetAsync(MoveRequest request, CancellationToken ct) => connector.OpenAsync(request.Target, request.TargetDatabase, ct);

    private async Task RunAsync(string tool, ProcessSpec spec, CancellationToken ct)
    {
        var result = await processes.RunAsync(spec, ct);
        if (result.ExitCode != 0)
        {
            throw PgToolFailures.For(tool, result.ExitCode, result.StandardError);
        }
    }
}
