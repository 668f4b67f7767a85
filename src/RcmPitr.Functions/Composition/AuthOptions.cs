namespace RcmPitr.Functions.Composition;

/// <summary>How the Functions app knows its callers (section <c>Auth</c>).</summary>
public sealed class AuthOptions
{
    /// <summary>
    /// For local runs only (<c>func start</c>): start even though App Service authentication is off. Then anyone can
    /// send <c>X-MS-CLIENT-PRINCIPAL</c> and be whoever they claim, so never set this on Azure.
    /// </summary>
    public bool AllowWithoutAppServiceAuthentication { get; set; }

    /// <summary>Which Entra app role grants which RcmPitr role.</summary>
    public AuthRoleOptions Roles { get; set; } = new();
}
