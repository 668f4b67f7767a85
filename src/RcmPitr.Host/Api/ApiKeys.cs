using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using RcmPitr.Api;
using RcmPitr.Host.Composition;

namespace RcmPitr.Host.Api;

/// <summary>
/// Authentication by API key in <c>x-functions-key</c> (the header Azure Functions' function keys use), each key
/// mapped to a principal name in configuration. The principal — never a body field — is who requested or
/// approved, and what the audit records.
/// </summary>
public sealed class ApiKeys(RcmPitrOptions options) : IEndpointFilter
{
    /// <summary>The header carrying the key.</summary>
    public const string Header = "x-functions-key";

    private const string PrincipalItem = "rcm-pitr.principal";

    /// <summary>The authenticated principal of the request.</summary>
    public static Principal PrincipalOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return (Principal)context.Items[PrincipalItem]!;
    }

    /// <inheritdoc />
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var presented = context.HttpContext.Request.Headers[Header].ToString();
        var principal = Find(presented);
        if (principal is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: $"A valid API key is required in the {Header} header.");
        }

        context.HttpContext.Items[PrincipalItem] = Principal.Create(principal, principal, PrincipalRoles.All);
        return await next(context);
    }

    private string? Find(string presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return null;
        }

        var bytes = Encoding.UTF8.GetBytes(presented);
        string? match = null;
        // Compare against every key in constant time, so timing reveals nothing about which key nearly matched.
        foreach (var (key, principal) in options.ApiKeys)
        {
            if (CryptographicOperations.FixedTimeEquals(bytes, Encoding.UTF8.GetBytes(key)))
            {
                match = principal;
            }
        }

        return match;
    }
}
