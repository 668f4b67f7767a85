using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace RcmPitr.Postgres.Provisioning;

/// <summary>
/// A session advisory lock in the master database on one restored server's name. Acquires and releases of one server
/// hold it while they provision or delete, so the provisioner is never asked to create and delete one server at once,
/// by any host. The key is derived from the name (SHA-256), the same in every process. A crashed holder's session ends
/// and takes the lock with it; a living one unlocks explicitly, because a pooled connection keeps its session.
/// </summary>
internal sealed class RestoredServerLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly long _key;

    private RestoredServerLock(NpgsqlConnection connection, long key)
    {
        _connection = connection;
        _key = key;
    }

    /// <summary>Waits for the lock on <paramref name="serverName"/>.</summary>
    public static async Task<RestoredServerLock> TakeAsync(NpgsqlConnection connection, string serverName, CancellationToken cancellationToken)
    {
        var key = KeyOf(serverName);
        await using var command = new NpgsqlCommand("SELECT pg_advisory_lock($1)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new RestoredServerLock(connection, key);
    }

    /// <summary>Takes the lock if nobody holds it; null if somebody does.</summary>
    public static async Task<RestoredServerLock?> TryTakeAsync(NpgsqlConnection connection, string serverName, CancellationToken cancellationToken)
    {
        var key = KeyOf(serverName);
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))! ? new RestoredServerLock(connection, key) : null;
    }

    /// <summary>The lock key of a server name.</summary>
    public static long KeyOf(string serverName) =>
        BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes("rcm-pitr restored server " + serverName)));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", _connection);
            command.Parameters.Add(new NpgsqlParameter { Value = _key });
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The connection broke: its session ended on the server, and the lock with it.
        }
    }
}
