using Npgsql;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// The settings of the sessions that load a new database. They ask the server not to wait for the WAL flush at each
/// commit (<c>synchronous_commit = off</c>: the database is not live until cutover, and a crash mid-load is resumed or
/// redone), but a managed server may refuse a session that changes it — Azure Database for PostgreSQL Flexible Server
/// lists <c>synchronous_commit</c> as a read-only server parameter. So each move asks once, on its first target
/// connection, and loads with the server's own setting when refused, instead of failing.
/// </summary>
public class LoadingSessions
{
    /// <summary>Tries the setting on <paramref name="target"/>; the answer is the move's for every session it opens.</summary>
    public async Task<LoadingSession> NegotiateAsync(NpgsqlConnection target, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        try
        {
            await RelaxCommitAsync(target, ct);
            return new LoadingSession(RelaxedCommit: true, Refusal: null);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.CantChangeRuntimeParam
                                              or PostgresErrorCodes.InvalidParameterValue or PostgresErrorCodes.FeatureNotSupported)
        {
            // The session is usable after a refused SET (outside a transaction nothing is aborted).
            return new LoadingSession(RelaxedCommit: false, Refusal: $"{e.SqlState} {e.MessageText}");
        }
    }

    /// <summary>Sets the session's <c>synchronous_commit</c> to off.</summary>
    protected virtual async Task RelaxCommitAsync(NpgsqlConnection target, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        await using var set = new NpgsqlCommand("SET synchronous_commit = off", target);
        await set.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Applies what was negotiated to another session of the same move.</summary>
    internal async Task ApplyAsync(LoadingSession session, NpgsqlConnection target, CancellationToken ct)
    {
        if (session.RelaxedCommit)
        {
            await RelaxCommitAsync(target, ct);
        }
    }
}

/// <summary>What a move's loading sessions may use: <paramref name="RelaxedCommit"/> false when the server refused it (<paramref name="Refusal"/> says how).</summary>
public sealed record LoadingSession(bool RelaxedCommit, string? Refusal);
