using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RcmPitr.Functions.Composition;

namespace RcmPitr.Functions.Tests;

/// <summary>The app does not start where its caller headers could come from anyone.</summary>
public sealed class AppServiceAuthenticationCheckTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("False")]
    [InlineData("")]
    public void AddRcmPitrFunctions_AppServiceAuthenticationOff_Throws(string? enabled)
    {
        var configuration = Configuration(("WEBSITE_AUTH_ENABLED", enabled));

        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddRcmPitrFunctions(configuration));

        Assert.Contains("WEBSITE_AUTH_ENABLED", error.Message, StringComparison.Ordinal);
        Assert.Contains("Auth__AllowWithoutAppServiceAuthentication", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("WEBSITE_AUTH_ENABLED", "True")]
    [InlineData("WEBSITE_AUTH_ENABLED", "true")]
    [InlineData("Auth:AllowWithoutAppServiceAuthentication", "true")]
    public void Ensure_AuthenticationOnOrTheLocalOptOut_Passes(string key, string value)
    {
        AppServiceAuthenticationCheck.Ensure(Configuration((key, value)));
    }

    private static IConfiguration Configuration(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, v.Value))).Build();
}
