using System.Text;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Workflow.Tests.Naming;

public sealed class TenantDatabaseNamesTests
{
    private const string RunId = "restore-acme--20260422143010-1a2b3c4d";
    private static readonly RestoreStamp Stamp = RestoreStamp.Parse("20260422143010");
    private static readonly string Tag = RunIds.Tag(RunId);

    [Fact]
    public void For_HyphenatedSlug_UsesUnderscores()
    {
        var names = TenantDatabaseNames.For(TenantSlug.Parse("globex-health"));

        Assert.Equal("tenant_globex_health", names.Canonical);
        Assert.Equal($"tenant_globex_health_restore_20260422143010_{Tag}", names.Restore(Stamp, RunId));
        Assert.Equal($"tenant_globex_health_pre_pitr_20260422143010_{Tag}", names.PrePitr(Stamp, RunId));
        Assert.Equal($"tenant_globex_health_rollback_20260422143010_{Tag}", names.Rollback(Stamp, RunId));
        Assert.Equal($"tenant_globex_health_asof_20260422143010_{Tag}", names.AsOf(Stamp, RunId));
    }

    [Fact]
    public void Derived_RunbookExample_KeepsTheRunbooksShapeWithSecondAndRunTag()
    {
        var names = TenantDatabaseNames.For(TenantSlug.Parse("acme"));

        Assert.Matches("^tenant_acme_restore_20260422143010_[0-9a-f]{6}$", names.Restore(Stamp, RunId));
        Assert.Matches("^tenant_acme_pre_pitr_20260422143010_[0-9a-f]{6}$", names.PrePitr(Stamp, RunId));
        Assert.Matches("^tenant_acme_rollback_20260422143010_[0-9a-f]{6}$", names.Rollback(Stamp, RunId));
    }

    [Fact]
    public void Derived_TwoRunsToTheSameSecond_NeverShareAName()
    {
        var names = TenantDatabaseNames.For(TenantSlug.Parse("acme"));

        var first = names.AllDerived(Stamp, "restore-acme--20260422143010-aaaaaaaa");
        var second = names.AllDerived(Stamp, "restore-acme--20260422143010-bbbbbbbb");

        Assert.Empty(first.Intersect(second));
    }

    [Theory]
    [InlineData("tenant_acme", true)]
    [InlineData("tenant_acme_restore_20260422143010_abc123", true)]
    [InlineData("tenant_acme_pre_pitr_202604221430", true)]
    [InlineData("tenant_acme_corp", false)]
    [InlineData("tenant_acme_corp_restore_20260422143010_abc123", false)]
    [InlineData("tenant_acm", false)]
    [InlineData("postgres", false)]
    public void IsOwnDatabase_TellsTheTenantsNamesFromASiblings(string database, bool own)
    {
        Assert.Equal(own, TenantDatabaseNames.For(TenantSlug.Parse("acme")).IsOwnDatabase(database));
    }

    [Theory]
    [InlineData(25)]
    [InlineData(26)]
    [InlineData(34)]
    [InlineData(45)]
    [InlineData(56)]
    public void Derived_LongSlug_FitsSixtyThreeBytesAndKeepsTheSuffix(int length)
    {
        var names = TenantDatabaseNames.For(TenantSlug.Parse(new string('q', length)));

        foreach (var name in names.AllDerived(Stamp, RunId))
        {
            Assert.True(Encoding.UTF8.GetByteCount(name) <= 63, name);
            Assert.EndsWith("_" + Stamp.Value + "_" + Tag, name, StringComparison.Ordinal);
            Assert.NotEqual(names.Canonical, name);
        }

        Assert.EndsWith("_pre_pitr_20260422143010_" + Tag, names.PrePitr(Stamp, RunId), StringComparison.Ordinal);
        Assert.True(names.IsOwnDatabase(names.PrePitr(Stamp, RunId)));
    }

    [Fact]
    public void Derived_LongSlugsSharingAPrefix_StayDistinct()
    {
        var prefix = new string('m', 50);
        var a = TenantDatabaseNames.For(TenantSlug.Parse(prefix + "-a"));
        var b = TenantDatabaseNames.For(TenantSlug.Parse(prefix + "-b"));

        Assert.NotEqual(a.PrePitr(Stamp, RunId), b.PrePitr(Stamp, RunId));
        Assert.NotEqual(a.Restore(Stamp, RunId), b.Restore(Stamp, RunId));
    }

    [Fact]
    public void Derived_SameInput_IsDeterministic()
    {
        var slug = new string('z', 50);

        var first = TenantDatabaseNames.For(TenantSlug.Parse(slug)).PrePitr(Stamp, RunId);
        var second = TenantDatabaseNames.For(TenantSlug.Parse(slug)).PrePitr(Stamp, RunId);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Derived_ShortSlug_IsNotShortened()
    {
        var names = TenantDatabaseNames.For(TenantSlug.Parse(new string('k', 25)));

        Assert.Equal(names.Canonical + "_pre_pitr_20260422143010_" + Tag, names.PrePitr(Stamp, RunId));
        Assert.Equal(63, names.PrePitr(Stamp, RunId).Length);
    }
}
