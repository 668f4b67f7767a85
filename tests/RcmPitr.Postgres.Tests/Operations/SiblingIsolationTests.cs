using Npgsql;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Tests.Operations;

/// <summary>Invariant 2: restoring one tenant never touches a sibling on the same server.</summary>
public sealed class SiblingIsolationTests(ClusterFixture fx)
{
    [Fact]
    public async Task FullRestoreAndRollback_OfOneTenant_LeavesTheSiblingsRowsSessionAndStatusUnchanged()
    {
        await using var s = await Scenario.StartAsync(fx);
        var acme = s.NewSlug("acme");
        var sibling = s.NewSlug("globex-health");
        var tenant = await s.AddTenantAsync(acme, liveMembers: 7, pitrMembers: 11);
        var other = await s.AddTenantAsync(sibling, liveMembers: 13, pitrMembers: 5);
        var siblingPrint = await s.FingerprintAsync(s.Live, other.DatabaseName);
        await using var siblingSession = await s.Connector.OpenAsync(s.Live, other.DatabaseName, CancellationToken.None);
        var siblingPid = await PidAsync(siblingSession);

        await s.StatusChanger.FreezeAsync(new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR"), CancellationToken.None);
        var restored = await Restores.DumpAndLoadAsync(s, acme);
        var parity = await s.Parity.ProbeAsync(new ParityProbeInput(s.RunId, s.Live, acme, TestData.Stamp), CancellationToken.None);
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, acme, TestData.Stamp), CancellationToken.None);
        await s.Cache.InvalidateAsync(new InvalidateTenantCacheInput(tenant.TenantId), CancellationToken.None);
        await s.StatusChanger.UnfreezeAsync(new UnfreezeTenantInput(s.RunId, tenant.TenantId, "alice", "done"), CancellationToken.None);
        await s.Audit.WriteAsync(new WriteAuditInput(s.RunId, tenant.TenantId, AuditEvents.PitrRestored, "alice", "PITR"), CancellationToken.None);
        Assert.Equal(11L, await s.ScalarAsync<long>(s.Live, tenant.DatabaseName, "SELECT count(*) FROM members.member"));
        await s.Swap.RollBackAsync(new RollbackSwapInput(s.RunId, s.Live, acme, TestData.Stamp), CancellationToken.None);

        Assert.NotNull(restored);
        Assert.NotNull(parity);
        Assert.Equal(7L, await s.ScalarAsync<long>(s.Live, tenant.DatabaseName, "SELECT count(*) FROM members.member"));
        Assert.Equal(siblingPrint, await s.FingerprintAsync(s.Live, other.DatabaseName));
        Assert.Equal(siblingPid, await PidAsync(siblingSession));
        Assert.Equal([other.DatabaseName], await s.DatabasesOfAsync(s.Live, sibling));
        Assert.Equal("active", await s.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", other.TenantId));
        Assert.Equal(0L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", other.TenantId));
    }

    private static async Task<int> PidAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
