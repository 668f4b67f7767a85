using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RcmPitr.Api;

namespace RcmPitr.Functions.Tests;

/// <summary>Client principals as App Service authentication encodes them in <c>X-MS-CLIENT-PRINCIPAL</c>.</summary>
internal static class ClientPrincipals
{
    /// <summary>A stable object id per test name (alice is always the same GUID).</summary>
    public static string OidOf(string name) => new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 16)).ToString();

    /// <summary>The base64 JSON of a signed-in Entra user: object id, name and app roles.</summary>
    public static string Blob(string oid, string name, params string[] appRoles)
    {
        var claims = new List<object> { new { typ = AppServicePrincipal.ObjectIdClaim, val = oid }, new { typ = "name", val = name } };
        claims.AddRange(appRoles.Select(r => new { typ = "roles", val = r }));
        return Encode(new { auth_typ = "aad", claims, name_typ = "name", role_typ = "roles" });
    }

    /// <summary>Any object as base64 JSON, to build malformed principals too.</summary>
    public static string Encode(object value) => Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value)));
}
