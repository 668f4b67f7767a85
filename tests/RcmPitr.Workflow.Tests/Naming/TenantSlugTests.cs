using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Workflow.Tests.Naming;

public sealed class TenantSlugTests
{
    [Theory]
    [InlineData("acme")]
    [InlineData("globex-health")]
    [InlineData("a1-b2-c3")]
    [InlineData("7eleven")]
    public void Parse_ValidSlug_ReturnsIt(string value)
    {
        var slug = TenantSlug.Parse(value);

        Assert.Equal(value, slug.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("Acme")]
    [InlineData("acme_corp")]
    [InlineData("-acme")]
    [InlineData("acme-")]
    [InlineData("ac--me")]
    [InlineData("acme corp")]
    [InlineData("acme'; DROP DATABASE tenant_globex; --")]
    [InlineData("acme\"; DROP DATABASE x; --")]
    [InlineData("acme\0")]
    [InlineData("ácme")]
    [InlineData("../etc")]
    public void Parse_MalformedSlug_ThrowsNamingTheField(string? value)
    {
        var error = Assert.Throws<InvalidRestoreInputException>(() => TenantSlug.Parse(value));

        Assert.Equal("tenant", error.Field);
        Assert.Equal("invalid_input", error.Code);
    }

    [Fact]
    public void Parse_LongestAllowed_FitsTheCanonicalName()
    {
        var value = new string('a', TenantSlug.MaxLength);

        var names = TenantDatabaseNames.For(TenantSlug.Parse(value));

        Assert.Equal(63, names.Canonical.Length);
    }

    [Fact]
    public void Parse_OneTooLong_ExplainsTheLimit()
    {
        var value = new string('a', TenantSlug.MaxLength + 1);

        var error = Assert.Throws<InvalidRestoreInputException>(() => TenantSlug.Parse(value));

        Assert.Contains("63-byte", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("acme-pre-pitr-202604221430")]
    [InlineData("acme-restore-202604221430")]
    [InlineData("acme-rollback-202604221430")]
    [InlineData("acme-asof-202604221430")]
    [InlineData("acme-pre-pitr-20260422143010")]
    [InlineData("acme-restore-20260422143010-3fa9c2")]
    public void Parse_SlugShapedLikeADerivedName_IsRefused(string value)
    {
        var error = Assert.Throws<InvalidRestoreInputException>(() => TenantSlug.Parse(value));

        Assert.Contains("mistaken", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HugeInput_DoesNotEchoItWhole()
    {
        var value = new string('x', 10_000);

        var error = Assert.Throws<InvalidRestoreInputException>(() => TenantSlug.Parse(value));

        Assert.True(error.Message.Length < 400);
    }
}
