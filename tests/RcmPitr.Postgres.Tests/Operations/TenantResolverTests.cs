using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class TenantResolverTests(ClusterFixture fx)
{
    [Fact]
    public async Task ResolveAsync_KnownHyphenatedSlug_ReturnsTenantServerAndDatabase()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug("globex-health");
        var added = await s.AddTenantAsync(slug, liveMembers: 3);

        var tenant = await s.Resolver.ResolveAsync(new ResolveTenantInput(slug), CancellationToken.None);

        Assert.Equal(added.TenantId, tenant.TenantId);
        Assert.Equal("tenant_" + slug.Replace('-', '_'), tenant.DatabaseName);
        Assert.Equal(TenantStatus.Active, tenant.Status);
        Assert.Equal(s.Live.Port, tenant.Server.Port);
        Assert.Equal(ClusterFixture.LiveSecretRef, tenant.Server.AdminSecretRef);
        Assert.Equal($"tenant-db-{slug}", tenant.DbConfigRef);
    }

    [Fact]
    public async Task ResolveAsync_UnknownSlug_ThrowsTenantNotFound()
    {
        await using var s = await Scenario.StartAsync(fx);

        var error = await Assert.ThrowsAsync<TenantNotFoundException>(
            () => s.Resolver.ResolveAsync(new ResolveTenantInput("no-such-tenant"), CancellationToken.None));

        Assert.Equal("tenant_not_found", error.Code);
        Assert.Contains("no-such-tenant", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_InjectionInSlug_IsRejectedBeforeAnyQuery()
    {
        await using var s = await Scenario.StartAsync(fx);

        var error = await Assert.ThrowsAsync<InvalidRestoreInputException>(
            () => s.Resolver.ResolveAsync(new ResolveTenantInput("x' OR '1'='1"), CancellationToken.None));

        Assert.Equal("tenant", error.Field);
    }

    [Theory]
    [InlineData("read_only")]
    [InlineData("suspended")]
    public async Task ResolveAsync_TenantNotActive_ThrowsStatusConflict(string status)
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 1, status: status);

        var error = await Assert.ThrowsAsync<TenantStatusConflictException>(
            () => s.Resolver.ResolveAsync(new ResolveTenantInput(slug), CancellationToken.None));

        Assert.Equal(status, error.Status);
    }

    [Fact]
    public async Task ResolveAsync_NotActiveButNotRequired_Resolves()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        await s.AddTenantAsync(slug, liveMembers: 1, status: "read_only");

        var tenant = await s.Resolver.ResolveAsync(new ResolveTenantInput(slug, RequireActive: false), CancellationToken.None);

        Assert.Equal(TenantStatus.ReadOnly, tenant.Status);
    }
}
