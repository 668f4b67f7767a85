using Npgsql;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class FlipRefCutoverTests(ClusterFixture fx)
{
    [Fact]
    public async Task FlipAsync_LoadedRestore_WritesRepointedSecretThenUpdatesMaster()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 2);
        var restored = await Restores.DumpAndLoadAsync(s, slug);

        var result = await s.Flip.FlipAsync(new FlipRefCutoverInput(s.RunId, tenant.TenantId, s.Live, slug, TestData.Stamp), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.Equal($"tenant-db-{slug}", result.PreviousRef);
        Assert.Equal($"tenant-db-{slug}-{TestData.Stamp}-{RunIds.Tag(s.RunId)}", result.NewRef);
        Assert.Equal(result.NewRef, await s.MasterScalarAsync<string>("SELECT db_config_ref FROM identity.tenant WHERE id = $1", tenant.TenantId));
        var secret = new NpgsqlConnectionStringBuilder(await fx.Secrets.GetSecretAsync(result.NewRef, CancellationToken.None));
        Assert.Equal(restored.DatabaseName, secret.Database);
        Assert.Equal("app-secret", secret.Password);
        Assert.Equal(1L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_DB_REF_CHANGED'", tenant.TenantId));
        Assert.Contains(tenant.DatabaseName, await s.DatabasesOfAsync(s.Live, slug));
    }

    [Fact]
    public async Task FlipAsync_RunTwice_SecondChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 2);
        await Restores.DumpAndLoadAsync(s, slug);
        var input = new FlipRefCutoverInput(s.RunId, tenant.TenantId, s.Live, slug, TestData.Stamp);
        await s.Flip.FlipAsync(input, CancellationToken.None);

        var second = await s.Flip.FlipAsync(input, CancellationToken.None);

        Assert.False(second.Changed);
        Assert.Equal($"tenant-db-{slug}", second.PreviousRef);
        Assert.Equal(1L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task FlipAsync_CrashAfterSecretWriteBeforeMasterUpdate_RerunConverges()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 2);
        await Restores.DumpAndLoadAsync(s, slug);
        var newRef = FlipRefCutover.NewRefFor(TenantSlug.Parse(slug), RestoreStamp.Parse(TestData.Stamp), s.RunId);
        await fx.Secrets.SetSecretAsync(newRef, "Host=stale;Database=stale", CancellationToken.None);

        var result = await s.Flip.FlipAsync(new FlipRefCutoverInput(s.RunId, tenant.TenantId, s.Live, slug, TestData.Stamp), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.Equal(result.DatabaseName, new NpgsqlConnectionStringBuilder(await fx.Secrets.GetSecretAsync(newRef, CancellationToken.None)).Database);
        Assert.Equal(newRef, await s.MasterScalarAsync<string>("SELECT db_config_ref FROM identity.tenant WHERE id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task FlipAsync_NoLoadedRestore_RefusesAndChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3);

        await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => s.Flip.FlipAsync(new FlipRefCutoverInput(s.RunId, tenant.TenantId, s.Live, slug, TestData.Stamp), CancellationToken.None));

        Assert.Equal($"tenant-db-{slug}", await s.MasterScalarAsync<string>("SELECT db_config_ref FROM identity.tenant WHERE id = $1", tenant.TenantId));
    }
}
