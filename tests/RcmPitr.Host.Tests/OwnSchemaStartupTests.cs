using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RcmPitr.Api;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Host.Tests;

public sealed class OwnSchemaStartupTests(HostClusterFixture fx)
{
    private static readonly string[] OwnTables =
        ["rcm_pitr.decision_attempts", "rcm_pitr.tenant_runs", "rcm_pitr.restored_server", "rcm_pitr.transfer_progress", "rcm_pitr.parity_reports", "rcm_pitr.activity_starts",
         "rcm_pitr.notification_outbox", "rcm_pitr.change_reports", "rcm_pitr.drill_results"];

    [Fact]
    public async Task StartAsync_MasterWithOnlyThePlatformsTables_CreatesRcmPitrsOwnAndNothingElse()
    {
        await WithPlatformMasterAsync(async (database, master) =>
        {
            await new OwnSchemaStartup(master, NullLogger<OwnSchemaStartup>.Instance).StartAsync(CancellationToken.None);

            foreach (var table in OwnTables)
            {
                Assert.True(await fx.ScalarAsync<bool>(fx.LiveServer, database, "SELECT to_regclass($1) IS NOT NULL", table), table);
            }

            Assert.Equal(0L, await fx.ScalarAsync<long>(fx.LiveServer, database,
                "SELECT count(*) FROM rcm_pitr_meta.schema_migrations WHERE name = ANY($1)", (object)EmbeddedSchema.PlatformMasterScripts.ToArray()));
        });
    }

    [Fact]
    public async Task EnsureOwnTables_OnAMasterThatMissedTheStartUp_CreatesThemOnFirstUse()
    {
        await WithPlatformMasterAsync(async (database, master) =>
        {
            await master.EnsureOwnTablesAsync(["rcm_pitr.activity_starts"], "V006__activity_starts.sql", CancellationToken.None);

            Assert.True(await fx.ScalarAsync<bool>(fx.LiveServer, database, "SELECT to_regclass('rcm_pitr.activity_starts') IS NOT NULL"));
        });
    }

    [Fact]
    public async Task EnsureOwnTables_LoginThatMayNotCreateThem_FailsNamingTheScriptToApply()
    {
        await WithPlatformMasterAsync(async (database, _) =>
        {
            var role = "rcm_limited_" + Guid.NewGuid().ToString("N")[..8];
            var password = Guid.NewGuid().ToString("N");
            await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE ROLE {role} LOGIN PASSWORD '{password}'");
            try
            {
                var builder = new NpgsqlConnectionStringBuilder
                {
                    Host = fx.LiveServer.Fqdn, Port = fx.LiveServer.Port, Database = database, Username = role, Password = password, Pooling = false,
                };
                await using var limited = new ControlPlaneDatabase(NpgsqlDataSource.Create(builder));

                var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                    limited.EnsureOwnTablesAsync(["rcm_pitr.restored_server", "rcm_pitr.restored_server_holder"], "V003__restored_servers.sql", CancellationToken.None));

                Assert.Contains("rcm_pitr.restored_server and rcm_pitr.restored_server_holder", error.Message, StringComparison.Ordinal);
                Assert.Contains("src/RcmPitr.Postgres/Schema/master/V003__restored_servers.sql", error.Message, StringComparison.Ordinal);
                Assert.False(await fx.ScalarAsync<bool>(fx.LiveServer, database, "SELECT to_regclass('rcm_pitr.restored_server') IS NOT NULL"));
            }
            finally
            {
                await fx.ExecAsync(fx.LiveServer, "postgres", $"DROP ROLE IF EXISTS {role}");
            }
        });
    }

    /// <summary>A production master: the platform's tables exist, RcmPitr's do not.</summary>
    private async Task WithPlatformMasterAsync(Func<string, ControlPlaneDatabase, Task> test)
    {
        fx.RequirePostgres();
        var database = "master_own_" + Guid.NewGuid().ToString("N")[..10];
        await fx.ExecAsync(fx.LiveServer, "postgres", $"CREATE DATABASE {database}");
        try
        {
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
            await test(database, master);
        }
        finally
        {
            await using var maintenance = await fx.Connector.OpenMaintenanceAsync(fx.LiveServer, CancellationToken.None);
            await new ServerCatalog(maintenance).DropIfExistsAsync(database, CancellationToken.None);
        }
    }
}
