using Npgsql;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Testing;

namespace RcmPitr.Functions.Tests;

/// <summary>
/// Real clusters for the Functions tests: what the triggers keep in the master database (decision attempts, the tenant
/// lock) runs against a real one; only Durable's client is mocked (Durable cannot run here).
/// </summary>
public sealed class FunctionsClusterFixture : TwoClusterFixture
{
    /// <summary>A new, migrated master database of its own for one test.</summary>
    public async Task<ControlPlaneDatabase> NewMasterAsync()
    {
        RequirePostgres();
        var name = "master_" + Guid.NewGuid().ToString("N")[..12];
        await ExecAsync(LiveServer, "postgres", $"CREATE DATABASE {name}");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = LiveServer.Fqdn,
            Port = LiveServer.Port,
            Database = name,
            Username = LiveServer.AdminUser,
            Password = await Secrets.GetSecretAsync(LiveSecretRef, CancellationToken.None),
        };
        var master = new ControlPlaneDatabase(NpgsqlDataSource.Create(builder));
        await master.MigrateAsync(CancellationToken.None);
        return master;
    }
}
