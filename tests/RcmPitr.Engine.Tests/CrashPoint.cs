using Npgsql;

namespace RcmPitr.Engine.Tests;

/// <summary>
/// A place where one of the engine's own transactions stops, mid-flight, so a test can SIGKILL the process exactly
/// there: a row trigger on an engine table that, for the rows matching <c>when</c>, waits for an advisory lock this
/// object holds. Nothing in the engine knows about it; the transaction it stops is the real one.
/// </summary>
public sealed class CrashPoint : IAsyncDisposable
{
    private const long LockKey = 4711;
    private readonly EngineDatabase _db;
    private readonly NpgsqlConnection _holder;
    private readonly string _table;
    private bool _released;

    private CrashPoint(EngineDatabase db, NpgsqlConnection holder, string table)
    {
        _db = db;
        _holder = holder;
        _table = table;
    }

    /// <summary>Holds the lock and installs the trigger on <paramref name="table"/> (an <c>rcm_engine</c> table) for inserted rows matching <paramref name="when"/>.</summary>
    public static async Task<CrashPoint> InstallAsync(EngineDatabase db, string table, string when)
    {
        var holder = await db.DataSource.OpenConnectionAsync();
        await using (var hold = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", holder))
        {
            await hold.ExecuteNonQueryAsync();
        }

        await db.ExecuteAsync(
            $"""
            CREATE OR REPLACE FUNCTION public.wait_at_crash_point() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM pg_advisory_xact_lock_shared({LockKey});
              RETURN NEW;
            END $$;
            CREATE TRIGGER crash_point BEFORE INSERT ON rcm_engine.{table} FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION public.wait_at_crash_point();
            """);
        return new CrashPoint(db, holder, table);
    }

    /// <summary>Waits until a transaction stands at the crash point.</summary>
    public Task ReachedAsync() => Poll.UntilAsync(
        async () => await _db.CountAsync(
            $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = {LockKey}::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") > 0,
        "an engine transaction to reach the crash point");

    /// <summary>Lets the stopped transaction go on (its client is dead by then, so it aborts) and removes the trigger.</summary>
    public async Task ReleaseAsync()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", _holder))
        {
            await release.ExecuteNonQueryAsync();
        }

        await _db.ExecuteAsync($"DROP TRIGGER crash_point ON rcm_engine.{_table}");
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync();
        await _holder.DisposeAsync();
    }
}
