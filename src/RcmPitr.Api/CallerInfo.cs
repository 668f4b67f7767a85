namespace RcmPitr.Api;

/// <summary>
/// <c>GET /api/me</c>: who the authenticated caller is, so a client (the web page) can tell the run's requester from a
/// possible approver before it offers a decision. The API still decides: this only explains its answers in advance.
/// </summary>
/// <param name="Id">The normalized stable id four eyes compares (an API key's principal, an Entra object id).</param>
/// <param name="Name">How the caller is shown.</param>
/// <param name="Roles">The caller's roles (<see cref="PrincipalRoles"/>), sorted.</param>
public sealed record CallerInfo(string Id, string Name, IReadOnlyList<string> Roles)
{
    /// <summary>The route.</summary>
    public const string Route = "/api/me";

    /// <summary>The caller as <c>GET /api/me</c> shows it.</summary>
    public static CallerInfo From(Principal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return new CallerInfo(principal.Id, principal.Name, principal.Roles.Order(StringComparer.Ordinal).ToList());
    }
}
