using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RcmPitr.Engine.Hosting;

namespace RcmPitr.Engine.Tests;

/// <summary>A test's engine database, with helpers to run engines on it.</summary>
public sealed class EngineDatabase(string connectionString) : IAsyncDisposable
{
    private readonly List<DurableEngine> _engines = [];
    private readonly List<NpgsqlDataSource> _roleSources = [];

    public string ConnectionString { get; } = connectionString;
    public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(connectionString);
    public string Name => new NpgsqlConnectionStringBuilder(ConnectionString).Database!;

    public static EngineOptions FastOptions => new() { PollInterval = TimeSpan.FromMilliseconds(100), ActivityLease = TimeSpan.FromSeconds(3) };

    public async Task<DurableEngine> StartEngineAsync(
        DurableRegistry registry, EngineOptions? options = null, TimeProvider? time = null, ILoggerFactory? loggers = null, NpgsqlDataSource? dataSource = null)
    {
        var engine = new DurableEngine(dataSource ?? DataSource, registry, options ?? FastOptions, time ?? TimeProvider.System, loggers ?? NullLoggerFactory.Instance);
        await engine.StartAsync(CancellationToken.None);
        _engines.Add(engine);
        return engine;
    }

    /// <summary>A login role that owns this database, and a data source connecting as it (a role the test can lock out).</summary>
    public async Task<(string Role, NpgsqlDataSource DataSource)> CreateOwnerRoleAsync()
    {
        var role = "engine_owner_" + Guid.NewGuid().ToString("N")[..8];
        const string password = "owner-pw";
        await ExecuteAsync($"CREATE ROLE {role} LOGIN PASSWORD '{password}'");
        await ExecuteAsync($"ALTER DATABASE {Name} OWNER TO {role}");
        var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(ConnectionString) { Username = role, Password = password }.ConnectionString);
        _roleSources.Add(source);
        return (role, source);
    }

    public async Task ExecuteAsync(string sql, params object[] args)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        await command.ExecuteNonQueryAsync();
    }

    public async Task<long> CountAsync(string sql, params object[] args)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }

        foreach (var source in _roleSources)
        {
            await source.DisposeAsync();
        }

        await DataSource.DisposeAsync();
    }
}
