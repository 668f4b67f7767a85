using Microsoft.Extensions.Configuration;

namespace RcmPitr.Functions.Composition;

/// <summary>
/// The start-up check that App Service authentication is on. The app takes its callers from the headers that
/// authentication sets (<c>X-MS-CLIENT-PRINCIPAL</c>); with it off, a client could set them and approve its own
/// restore as anyone, so the app refuses to start instead.
/// </summary>
public static class AppServiceAuthenticationCheck
{
    /// <summary>The setting App Service sets to <c>True</c> while its authentication is enabled.</summary>
    public const string EnabledSetting = "WEBSITE_AUTH_ENABLED";

    /// <summary>The explicit opt-out for local runs.</summary>
    public const string OptOutSetting = "Auth:AllowWithoutAppServiceAuthentication";

    /// <summary>Throws <see cref="InvalidOperationException"/> unless authentication is on or the opt-out is set.</summary>
    public static void Ensure(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (string.Equals(configuration[EnabledSetting], "True", StringComparison.OrdinalIgnoreCase) || configuration.GetValue<bool>(OptOutSetting))
        {
            return;
        }

        throw new InvalidOperationException(
            $"App Service authentication is off ({EnabledSetting} is not True), so the caller headers this app trusts could come from anyone. " +
            "Turn it on (authsettingsV2: requireAuthentication, unauthenticatedClientAction Return401, Microsoft Entra) — or, for a local run only, " +
            "set Auth__AllowWithoutAppServiceAuthentication=true.");
    }
}
