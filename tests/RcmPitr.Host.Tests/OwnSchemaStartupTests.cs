using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RcmPitr.Api;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Host.Tests;

public sealed class OwnSchemaStartupTests(HostClusterFixture fx)
{
    [Fact]
    public async Task StartAsync_MasterWithOnlyThePlatformsTables_CreatesRcmPitrsOwnAndNothingElse()
    {
        fx.RequirePostgres();
        var database = "master_own_" + Guid.NewGuid().ToString("N")[..10];
        await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {database}");
        try
        {
            // A production master: the platform's tables exist, RcmPitr's do not.
            var (_, platform) = EmbeddedSchema.Scripts(EmbeddedSchema.Master).Single(s => EmbeddedSchema.PlatformMasterScripts.Contains(s.Name));
            await fx.ExecAsync(fx.LiveServer, database, platform);
            var builder = new NpgsqlConnectionStringBuilder
            {
                Host = fx.LiveServer.Fqdn,
                Port = fx.LiveServer.Port,
                Database = database,
                Username = fx.LiveServer.AdminUser,
                Password = await fx.Secrets.GetSecretAsync(HostClusterFixture.LiveSecretRef, CancellationToken.None),
                Pooling = false,
            };
            await using var master = new ControlPlaneDatabase(NpgsqlDataSource.Create(builder));

            await new OwnSchemaStartup(master, NullLogger<OwnSchemaStartup>.Instance).StartAsync(CancellationToken.None);

            foreach (var table in new[] { "rcm_pitr.decision_attempts", "rcm_pitr.tenant_runs", "rcm_pitr.restored_server", "rcm_pitr.transfer_progress" })
            {
                Assert.True(await fx.ScalarAsync<bool>(fx.LiveServer, database, "SELECT to_regclass($1) IS NOT NULL", table), table);
            }

            Assert.Equal(0L, await fx.ScalarAsync<long>(fx.LiveServer, database,
                "SELECT count(*) FROM rcm_pitr_meta.schema_migrations WHERE name = ANY($1)", (object)EmbeddedSchema.PlatformMasterScripts.ToArray()));
        }
        finally
        {
            await using var maintenance = await fx.Connector.OpenMaintenanceAsync(fx.LiveServer, CancellationToken.None);
            await new ServerCatalog(maintenance).DropIfExistsAsync(database, CancellationToken.None);
        }
    }
}
