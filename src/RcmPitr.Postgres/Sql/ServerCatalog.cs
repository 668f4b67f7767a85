using Npgsql;
using Polly;
using Polly.Retry;

namespace RcmPitr.Postgres.Sql;

/// <summary>
/// Database-level catalog work on one server, over a connection to its maintenance database: look-ups,
/// create, rename, comment, drop, and ending the sessions attached to one database. Names reaching here
/// are validated by their callers and quoted again here.
/// </summary>
public sealed class ServerCatalog(NpgsqlConnection maintenance)
{
    private const string ObjectInUse = "55006";

    // A session can connect between terminate and rename; end sessions again and retry, a few times.
    private static readonly ResiliencePipeline InUseRetry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<PostgresException>(e => e.SqlState == ObjectInUse),
            MaxRetryAttempts = 5,
            Delay = TimeSpan.FromMilliseconds(200),
            BackoffType = DelayBackoffType.Exponential,
        })
        .Build();

    /// <summary>The database named <paramref name="name"/>, or null.</summary>
    public async Task<DatabaseEntry?> FindAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT datname, pg_encoding_to_char(encoding), datcollate, datctype, shobj_description(oid, 'pg_database'), datallowconn
            FROM pg_database WHERE datname = $1
            """,
            maintenance);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new DatabaseEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetBoolean(5))
            : null;
    }

    /// <summary>Size of the database in bytes.</summary>
    public async Task<long> SizeAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_database_size($1::name)", maintenance);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Ends every other session attached to <paramref name="name"/> (runbook step 6) and returns how many.</summary>
    public async Task<int> TerminateSessionsAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            maintenance);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Creates <paramref name="name"/> from template0 with the given encoding and locale, and marks it.</summary>
    public async Task CreateAsync(string name, DatabaseEntry localeFrom, DatabaseMarker marker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(localeFrom);
        ArgumentNullException.ThrowIfNull(marker);
        await ExecuteAsync(
            $"CREATE DATABASE {PgQuote.Identifier(name)} TEMPLATE template0 ENCODING {PgQuote.Literal(localeFrom.Encoding)} " +
            $"LC_COLLATE {PgQuote.Literal(localeFrom.Collate)} LC_CTYPE {PgQuote.Literal(localeFrom.CType)}",
            cancellationToken);
        await SetMarkerAsync(name, marker, cancellationToken);
    }

    /// <summary>Renames <paramref name="from"/> to <paramref name="to"/> (no session may be attached to it).</summary>
    public Task RenameAsync(string from, string to, CancellationToken cancellationToken) =>
        ExecuteAsync($"ALTER DATABASE {PgQuote.Identifier(from)} RENAME TO {PgQuote.Identifier(to)}", cancellationToken);

    /// <summary>Writes <paramref name="marker"/> as the database's comment.</summary>
    public Task SetMarkerAsync(string name, DatabaseMarker marker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(marker);
        return ExecuteAsync($"COMMENT ON DATABASE {PgQuote.Identifier(name)} IS {PgQuote.Literal(marker.Format())}", cancellationToken);
    }

    /// <summary>Opens or closes <paramref name="name"/> to new sessions (<c>ALLOW_CONNECTIONS</c>).</summary>
    public Task SetAllowConnectionsAsync(string name, bool allow, CancellationToken cancellationToken) =>
        ExecuteAsync($"ALTER DATABASE {PgQuote.Identifier(name)} WITH ALLOW_CONNECTIONS {(allow ? "true" : "false")}", cancellationToken);

    /// <summary>
    /// A cutover's renames. First <see cref="DatabaseSwap.CloseFirst"/> is closed to new sessions (committed), so pools
    /// cannot reconnect between ending its sessions and renaming it; then the sessions on every renamed database are
    /// ended and, in ONE transaction — PostgreSQL allows <c>ALTER DATABASE … RENAME</c> inside one — the renames run, the
    /// databases in <see cref="DatabaseSwap.OpenAfter"/> are opened again and the markers written. Either all of it
    /// happens or none of it, whatever happens to this process. When it fails, the caller opens the closed database again
    /// (over a new connection: a failed rename can leave this one broken).
    /// </summary>
    /// <returns>How many sessions were ended.</returns>
    public async Task<int> SwapAsync(DatabaseSwap swap, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(swap);
        await SetAllowConnectionsAsync(swap.CloseFirst, allow: false, cancellationToken);
        var terminated = 0;
        await InUseRetry.ExecuteAsync(
            async token =>
            {
                foreach (var (from, _) in swap.Renames)
                {
                    terminated += await TerminateSessionsAsync(from, token);
                }

                await using var transaction = await maintenance.BeginTransactionAsync(token);
                foreach (var (from, to) in swap.Renames)
                {
                    await ExecuteAsync($"ALTER DATABASE {PgQuote.Identifier(from)} RENAME TO {PgQuote.Identifier(to)}", token, transaction);
                }

                foreach (var name in swap.OpenAfter)
                {
                    await ExecuteAsync($"ALTER DATABASE {PgQuote.Identifier(name)} WITH ALLOW_CONNECTIONS true", token, transaction);
                }

                foreach (var (name, marker) in swap.Markers)
                {
                    await ExecuteAsync($"COMMENT ON DATABASE {PgQuote.Identifier(name)} IS {(marker is null ? "NULL" : PgQuote.Literal(marker.Format()))}", token, transaction);
                }

                await transaction.CommitAsync(token);
            },
            cancellationToken);
        return terminated;
    }

    /// <summary>Ends the sessions on <paramref name="name"/> and drops it if it exists. Callers decide whether it may be dropped.</summary>
    public async Task<bool> DropIfExistsAsync(string name, CancellationToken cancellationToken)
    {
        if (await FindAsync(name, cancellationToken) is null)
        {
            return false;
        }

        await InUseRetry.ExecuteAsync(
            async token =>
            {
                await TerminateSessionsAsync(name, token);
                await ExecuteAsync($"DROP DATABASE IF EXISTS {PgQuote.Identifier(name)}", token);
            },
            cancellationToken);
        return true;
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand(sql, maintenance, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
