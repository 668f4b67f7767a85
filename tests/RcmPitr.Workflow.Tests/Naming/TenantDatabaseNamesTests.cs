using System.Text;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Workflow.Tests.Naming;

public sealed class TenantDatabaseNamesTests
{
    private static readonly RestoreStamp Stamp = RestoreStamp.Parse("202604221430");

    [Fact]
    public void For_HyphenatedSlug_UsesUnderscores()
    {
        var names = TenantDatabaseNames.For(TenantSlug.Parse("globex-health"));

        Assert.Equal("tenant_globex_health", names.Canonical);
        Assert.Equal("tenant_globex_health_restore_202604221430", names.Restore(Stamp));
        Assert.Equal("tenant_globex_health_pre_pitr_202604221430", names.PrePitr(Stamp));
        Assert.Equal("tenant_globex_health_rollback_202604221430", names.Rollback(Stamp));
        Assert.Equal("tenant_globex_health_asof_202604221430", names.AsOf(Stamp));
    }

    [Fact]
    public void Derived_RunbookExample_MatchesTheRunbook()
    {
        var names = TenantDatabaseNames.For(TenantSlug.Parse("acme"));

        Assert.Equal("tenant_acme_restore_202604221430", names.Restore(Stamp));
        Assert.Equal("tenant_acme_pre_pitr_202604221430", names.PrePitr(Stamp));
        Assert.Equal("tenant_acme_rollback_202604221430", names.Rollback(Stamp));
    }

    [Theory]
    [InlineData(30)]
    [InlineData(34)]
    [InlineData(35)]
    [InlineData(45)]
    [InlineData(56)]
    public void Derived_LongSlug_FitsSixtyThreeBytesAndKeepsTheSuffix(int length)
    {
        var names = TenantDatabaseNames.For(TenantSlug.Parse(new string('q', length)));

        foreach (var name in names.AllDerived(Stamp))
        {
            Assert.True(Encoding.UTF8.GetByteCount(name) <= 63, name);
            Assert.EndsWith("_" + Stamp.Value, name, StringComparison.Ordinal);
            Assert.NotEqual(names.Canonical, name);
        }

        Assert.EndsWith("_pre_pitr_202604221430", names.PrePitr(Stamp), StringComparison.Ordinal);
    }

    [Fact]
    public void Derived_LongSlugsSharingAPrefix_StayDistinct()
    {
        var prefix = new string('m', 50);
        var a = TenantDatabaseNames.For(TenantSlug.Parse(prefix + "-a"));
        var b = TenantDatabaseNames.For(TenantSlug.Parse(prefix + "-b"));

        Assert.NotEqual(a.PrePitr(Stamp), b.PrePitr(Stamp));
        Assert.NotEqual(a.Restore(Stamp), b.Restore(Stamp));
    }

    [Fact]
    public void Derived_SameInput_IsDeterministic()
    {
        var slug = new string('z', 50);

        var first = TenantDatabaseNames.For(TenantSlug.Parse(slug)).PrePitr(Stamp);
        var second = TenantDatabaseNames.For(TenantSlug.Parse(slug)).PrePitr(Stamp);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Derived_ShortSlug_IsNotShortened()
    {
        var names = TenantDatabaseNames.For(TenantSlug.Parse(new string('k', 34)));

        Assert.Equal(names.Canonical + "_pre_pitr_202604221430", names.PrePitr(Stamp));
        Assert.Equal(63, names.PrePitr(Stamp).Length);
    }
}
