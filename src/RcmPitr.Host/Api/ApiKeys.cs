using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RcmPitr.Api;
using RcmPitr.Host.Composition;

namespace RcmPitr.Host.Api;

/// <summary>
/// Authentication by API key in <c>x-functions-key</c> (the header Azure Functions' function keys use). Principals are
/// configured by name with the SHA-256 of their key and their roles (<c>RcmPitr:Principals</c>); the legacy plaintext
/// map <c>RcmPitr:ApiKeys</c> is still read for one release, hashed at start-up and dropped from the options. The
/// principal — never a body field — is who requested or approved, and what the audit records.
/// </summary>
public sealed partial class ApiKeys : IEndpointFilter
{
    /// <summary>The header carrying the key.</summary>
    public const string Header = "x-functions-key";

    private const string PrincipalItem = "rcm-pitr.principal";

    private readonly ApiKeyPrincipals _principals;

    /// <summary>Loads and checks the principals; throws <see cref="InvalidOperationException"/> naming every misconfigured one.</summary>
    public ApiKeys(RcmPitrOptions options, ILogger<ApiKeys> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _principals = ApiKeyPrincipals.Load(options.Principals, options.ApiKeys);
        // Only the hashes stay in memory from here on.
        options.ApiKeys.Clear();
        if (_principals.LegacyPrincipals.Count > 0)
        {
            LogLegacyKeys(logger, string.Join(", ", _principals.LegacyPrincipals));
        }

        if (_principals.Count == 0)
        {
            LogNoPrincipals(logger);
        }
    }

    /// <summary>The authenticated principal of the request.</summary>
    public static Principal PrincipalOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return (Principal)context.Items[PrincipalItem]!;
    }

    /// <summary>The principal whose key <paramref name="presentedKey"/> is, or null.</summary>
    public Principal? Authenticate(string? presentedKey) => _principals.Authenticate(presentedKey);

    /// <inheritdoc />
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var principal = Authenticate(context.HttpContext.Request.Headers[Header].ToString());
        if (principal is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: $"A valid API key is required in the {Header} header.");
        }

        context.HttpContext.Items[PrincipalItem] = principal;
        return await next(context);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RcmPitr:ApiKeys holds plaintext API keys (principals: {Principals}); they work for this release only. Move each to RcmPitr:Principals:<name>:KeySha256 (the key's SHA-256) with its Roles, and remove ApiKeys.")]
    private static partial void LogLegacyKeys(ILogger logger, string principals);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API principals are configured (RcmPitr:Principals): every API request will be refused with 401.")]
    private static partial void LogNoPrincipals(ILogger logger);
}
