using System.Globalization;
using Npgsql;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Postgres.Movers;

/// <summary>One worker's connections, opened on first use: the source inside the shared snapshot, the target as a loading session.</summary>
internal sealed class StreamingWorker(MoveTools tools, MoveRequest request, LoadingSession session, string snapshot) : IAsyncDisposable
{
    private NpgsqlConnection? _source;
    private NpgsqlConnection? _target;

    public byte[] Buffer { get; } = new byte[CopyRelay.BufferBytes];

    /// <summary>
    /// The session settings a build runs with. Both are set every time, for the session serves build after build: one
    /// that ran beside a GIN build without parallel workers gets the server's number back once no GIN build is left.
    /// </summary>
    public static string BuildSettings(int maintenanceWorkMemMb, bool besideGin) => string.Create(
        CultureInfo.InvariantCulture,
        $"SET maintenance_work_mem = '{maintenanceWorkMemMb}MB'; SET max_parallel_maintenance_workers = {(besideGin ? "0" : "DEFAULT")};\n");

    public async Task<NpgsqlConnection> SourceAsync(CancellationToken ct)
    {
        if (_source is null)
        {
            _source = await tools.OpenSourceAsync(request, ct);
            await using var begin = new NpgsqlCommand($"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {PgQuote.Literal(snapshot)}", _source);
            await begin.ExecuteNonQueryAsync(ct);
        }

        return _source;
    }

    public async Task<NpgsqlConnection> TargetAsync(CancellationToken ct)
    {
        if (_target is null)
        {
            _target = await tools.OpenTargetAsync(request, ct);
            await tools.Sessions.ApplyAsync(session, _target, ct);
        }

        return _target;
    }

    /// <summary>Runs build statements with <paramref name="maintenanceWorkMemMb"/>; no parallel workers of its own beside a GIN build.</summary>
    public async Task ExecuteAsync(string sql, int maintenanceWorkMemMb, bool besideGin, CancellationToken ct)
    {
        var target = await TargetAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand(BuildSettings(maintenanceWorkMemMb, besideGin) + sql, target) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e)
        {
            throw RedactedPostgresException.From(e, "building indexes and constraints");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_source is not null)
        {
            await _source.DisposeAsync();
        }

        if (_target is not null)
        {
            await _target.DisposeAsync();
        }
    }
}
