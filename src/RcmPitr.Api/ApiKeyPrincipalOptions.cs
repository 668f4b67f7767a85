namespace RcmPitr.Api;

/// <summary>
/// One API-key principal of the embedded host (<c>RcmPitr:Principals:&lt;name&gt;</c>): the SHA-256 of its key, never
/// the key, and its roles. The name is the principal's id (trimmed and case-folded).
/// </summary>
public sealed class ApiKeyPrincipalOptions
{
    /// <summary>The SHA-256 of the key's UTF-8 bytes, 64 hex digits (<c>printf %s "$KEY" | sha256sum</c>).</summary>
    public string? KeySha256 { get; set; }

    /// <summary>
    /// <see cref="PrincipalRoles"/> names; none configured means <see cref="ApiKeyPrincipals.DefaultRoles"/> (requester
    /// and approver — never operator by default).
    /// </summary>
    public string[]? Roles { get; set; }
}
