using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class AuditAndCacheTests(ClusterFixture fx)
{
    [Fact]
    public async Task WriteAsync_RetriedAndConcurrent_WritesOneRowPerRunAndEvent()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        var input = new WriteAuditInput(s.RunId, tenant.TenantId, AuditEvents.PitrRestored, "alice", "bad migration",
            new Dictionary<string, string> { ["restoreTime"] = "2026-04-22T14:30:00Z", ["kept"] = "tenant_x_pre_pitr_202604221430" });

        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => s.Audit.WriteAsync(input, CancellationToken.None)));
        var again = await s.Audit.WriteAsync(input, CancellationToken.None);

        Assert.Equal(1, results.Count(r => r.Inserted));
        Assert.False(again.Inserted);
        Assert.All(results, r => Assert.Equal(again.AuditId, r.AuditId));
        Assert.Equal(1L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
        Assert.Equal("2026-04-22T14:30:00Z", await s.MasterScalarAsync<string>("SELECT details->>'restoreTime' FROM identity.tenant_audit WHERE id = $1", again.AuditId));
    }

    [Fact]
    public async Task WriteAsync_DifferentEventsOfOneRun_WriteOneRowEach()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);

        await s.Audit.WriteAsync(new WriteAuditInput(s.RunId, tenant.TenantId, AuditEvents.PitrRestored, "a", "r"), CancellationToken.None);
        await s.Audit.WriteAsync(new WriteAuditInput(s.RunId, tenant.TenantId, AuditEvents.PitrRolledBack, "a", "r"), CancellationToken.None);

        Assert.Equal(2L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task WriteAsync_UnknownEvent_IsRefused()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);

        await Assert.ThrowsAsync<InvalidRestoreInputException>(
            () => s.Audit.WriteAsync(new WriteAuditInput(s.RunId, tenant.TenantId, "TENANT_DELETED", "a", "r"), CancellationToken.None));
    }

    [Fact]
    public async Task InvalidateAsync_SendsTheTenantIdOnTheStatusChannel()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        await using var listener = await TenantStatusChangerTests.ListenAsync(s);

        await s.Cache.InvalidateAsync(new InvalidateTenantCacheInput(tenant.TenantId), CancellationToken.None);

        Assert.Equal(tenant.TenantId.ToString(), await listener.NextPayloadAsync());
    }
}
