using Npgsql;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Operations;

/// <summary>
/// The control-plane side of a region-loss recovery on real clusters: the fixture's PITR cluster plays the geo-restored server
/// (it holds each tenant's database), the live cluster the lost one.
/// </summary>
public sealed class ServerRecoveryTests(ClusterFixture fx)
{
    private const string Stamp = "20261202080000";

    [Fact]
    public async Task RepointAsync_TenantOnTheLostServer_MovesServerAndSecretInOneTransactionAndLeavesTheSiblingAlone()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 3, pitrMembers: 2);
        var sibling = await s.AddTenantAsync(s.NewSlug(), liveMembers: 4, pitrMembers: 1);
        var recovered = Recovered(s);

        var result = await Recovery(s).RepointAsync(Input(s, tenant, recovered), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.Equal((s.Live.Name, $"tenant-db-{tenant.Slug}", $"tenant-db-{tenant.Slug}-geo-{Stamp}", tenant.DatabaseName), (result.PreviousServer, result.PreviousRef, result.NewRef, result.Database));
        Assert.Equal(recovered.Name, await s.MasterScalarAsync<string>("SELECT db_server FROM identity.tenant WHERE id = $1", tenant.TenantId));
        Assert.Equal(result.NewRef, await s.MasterScalarAsync<string>("SELECT db_config_ref FROM identity.tenant WHERE id = $1", tenant.TenantId));
        Assert.Equal(recovered.Port, await s.MasterScalarAsync<int>("SELECT port FROM identity.db_server WHERE name = $1", recovered.Name));
        var secret = new NpgsqlConnectionStringBuilder(await fx.Secrets.GetSecretAsync(result.NewRef, CancellationToken.None));
        Assert.Equal((recovered.Fqdn, recovered.Port, tenant.DatabaseName, "app-secret"), (secret.Host, secret.Port, secret.Database, secret.Password));
        // The previous secret is left as it was, and the audit row says where the tenant came from.
        Assert.Equal(s.Live.Port, new NpgsqlConnectionStringBuilder(await fx.Secrets.GetSecretAsync(result.PreviousRef, CancellationToken.None)).Port);
        Assert.Equal(s.Live.Name, await s.MasterScalarAsync<string>(
            "SELECT details->>'fromServer' FROM identity.tenant_audit WHERE tenant_id = $1 AND event = $2", tenant.TenantId, AuditEvents.DbServerChanged));
        Assert.Equal((s.Live.Name, $"tenant-db-{sibling.Slug}"), (
            await s.MasterScalarAsync<string>("SELECT db_server FROM identity.tenant WHERE id = $1", sibling.TenantId),
            await s.MasterScalarAsync<string>("SELECT db_config_ref FROM identity.tenant WHERE id = $1", sibling.TenantId)));
    }

    [Fact]
    public async Task RepointAsync_RunTwice_SecondChangesNothingAndWritesNoSecondRow()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 3, pitrMembers: 2);
        var input = Input(s, tenant, Recovered(s));
        var first = await Recovery(s).RepointAsync(input, CancellationToken.None);

        var second = await Recovery(s).RepointAsync(input, CancellationToken.None);

        Assert.False(second.Changed);
        Assert.Equal(first with { Changed = false }, second);
        Assert.Equal(1L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task RepointAsync_TenantNotOnTheLostServer_IsRefusedAndLeftAsItIs()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 3, pitrMembers: 2);

        await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => Recovery(s).RepointAsync(Input(s, tenant, Recovered(s)) with { LostServer = "pg-some-other" }, CancellationToken.None));

        Assert.Equal(s.Live.Name, await s.MasterScalarAsync<string>("SELECT db_server FROM identity.tenant WHERE id = $1", tenant.TenantId));
        Assert.Equal(0L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task CheckAsync_DatabaseOnTheRecoveredServer_CountsItsCanaryTablesAndAMissingOneIsRefused()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 3, pitrMembers: 2);

        var check = await Recovery(s).CheckAsync(new CheckRecoveredTenantInput(Recovered(s), tenant.DatabaseName), CancellationToken.None);

        Assert.Equal(2L, check.Counts["members.member"]);
        await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => Recovery(s).CheckAsync(new CheckRecoveredTenantInput(Recovered(s), "tenant_nowhere_" + s.Id), CancellationToken.None));
    }

    [Fact]
    public async Task ProbeAsync_LiveServerAndAClosedPort_OneAnswersTheOtherDoesNot()
    {
        await using var s = await Scenario.StartAsync(fx);

        var live = await Recovery(s).ProbeAsync(new ProbeServerInput(s.Live), CancellationToken.None);
        var gone = await Recovery(s).ProbeAsync(new ProbeServerInput(s.Live with { Port = Clusters.LocalCluster.FreeLoopbackPort() }), CancellationToken.None);

        Assert.True(live.Reachable, live.Detail);
        Assert.False(gone.Reachable);
        Assert.Contains("connection failed", gone.Detail, StringComparison.Ordinal);
    }

    private static ServerRecovery Recovery(Scenario s) => new(s.Master, s.Connector, s.Fixture.Secrets, s.Resolver);

    private static DbServerInfo Recovered(Scenario s) => s.Pitr with { Name = $"{s.Live.Name}-geo-{Stamp}" };

    private static RepointTenantInput Input(Scenario s, TenantInfo tenant, DbServerInfo recovered) =>
        new($"recovery-{s.Id}.{tenant.Slug}", tenant.TenantId, tenant.Slug, s.Live.Name, recovered, "latest archived state", "alice", "region lost");
}
