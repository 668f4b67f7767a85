using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace RcmPitr.Api;

/// <summary>
/// The caller as App Service authentication verified it: <c>X-MS-CLIENT-PRINCIPAL</c>, base64 of
/// <c>{auth_typ, claims: [{typ, val}], name_typ, role_typ}</c>. The principal's id is the Entra object id claim (stable
/// across renames, unlike a UPN), its name a name claim, its roles the app roles mapped to RcmPitr's roles. App Service
/// sets these headers itself and drops any a client sent — but only while its authentication is on, which the
/// Functions app checks at start-up. <c>X-MS-CLIENT-PRINCIPAL-NAME</c> alone is never trusted.
/// </summary>
public static class AppServicePrincipal
{
    /// <summary>The base64 claims blob.</summary>
    public const string Header = "X-MS-CLIENT-PRINCIPAL";

    /// <summary>The identity provider's id of the caller; when present it must be the object id of the blob.</summary>
    public const string IdHeader = "X-MS-CLIENT-PRINCIPAL-ID";

    /// <summary>The Entra object id claim as App Service maps it.</summary>
    public const string ObjectIdClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";

    private const int MaxHeaderLength = 32 * 1024;

    private static readonly string[] ObjectIdClaims = [ObjectIdClaim, "oid"];
    private static readonly string[] NameClaims = ["name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "preferred_username"];
    private static readonly string[] RoleClaims = ["roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"];

    /// <summary>
    /// Reads the verified caller from <paramref name="headers"/>. <paramref name="appRoles"/> maps each RcmPitr role
    /// (<see cref="PrincipalRoles"/>) to the app role value that grants it. False, with the reason, when the blob is
    /// missing or malformed, carries no single GUID object id, or disagrees with <see cref="IdHeader"/>.
    /// </summary>
    public static bool TryRead(IHeaderDictionary headers, IReadOnlyDictionary<string, string> appRoles, out Principal? principal, out string problem)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(appRoles);
        principal = null;
        var blob = headers[Header].ToString();
        if (blob.Length == 0)
        {
            problem = $"no {Header} header: App Service authentication must sign the caller in";
            return false;
        }

        if (!TryParseClaims(blob, out var claims, out var nameType, out var roleType))
        {
            problem = $"{Header} is not base64 of the client principal's JSON";
            return false;
        }

        var objectIds = Values(claims, ObjectIdClaims).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (objectIds is not [var objectId] || !Guid.TryParse(objectId, out _))
        {
            problem = $"{Header} carries no single Entra object id (oid) claim";
            return false;
        }

        var idHeader = headers[IdHeader].ToString();
        if (idHeader.Length > 0 && !string.Equals(idHeader.Trim(), objectId.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            problem = $"{IdHeader} and the object id in {Header} differ";
            return false;
        }

        var name = (nameType is null ? NameClaims : [nameType, .. NameClaims])
            .Select(type => Values(claims, [type]).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v)))
            .FirstOrDefault(v => v is not null);
        var granted = Values(claims, roleType is null ? RoleClaims : [roleType, .. RoleClaims]).ToHashSet(StringComparer.Ordinal);
        var roles = appRoles.Where(r => !string.IsNullOrWhiteSpace(r.Value) && granted.Contains(r.Value.Trim())).Select(r => r.Key);
        principal = Principal.Create(objectId, name, roles);
        problem = string.Empty;
        return true;
    }

    private static IEnumerable<string> Values(IReadOnlyList<(string Type, string Value)> claims, IReadOnlyCollection<string> types) =>
        claims.Where(c => types.Contains(c.Type, StringComparer.OrdinalIgnoreCase)).Select(c => c.Value);

    private static bool TryParseClaims(string blob, out IReadOnlyList<(string Type, string Value)> claims, out string? nameType, out string? roleType)
    {
        claims = [];
        nameType = null;
        roleType = null;
        if (blob.Length > MaxHeaderLength)
        {
            return false;
        }

        var bytes = new byte[(blob.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(blob.Trim(), bytes, out var length))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes.AsMemory(0, length), new JsonDocumentOptions { MaxDepth = 8 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("claims", out var array) || array.ValueKind != JsonValueKind.Array)
            {
                return false;
            }

            var list = new List<(string, string)>();
            foreach (var claim in array.EnumerateArray())
            {
                if (claim.ValueKind == JsonValueKind.Object
                    && claim.TryGetProperty("typ", out var type) && type.ValueKind == JsonValueKind.String
                    && claim.TryGetProperty("val", out var value) && value.ValueKind == JsonValueKind.String)
                {
                    list.Add((type.GetString()!, value.GetString()!));
                }
            }

            claims = list;
            nameType = StringProperty(root, "name_typ");
            roleType = StringProperty(root, "role_typ");
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string? StringProperty(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
}
