using RcmPitr.Api;

namespace RcmPitr.Functions.Composition;

/// <summary>
/// The Entra app role values (the <c>roles</c> claim) that grant RcmPitr's roles (section <c>Auth:Roles</c>). An empty
/// value grants the role to nobody.
/// </summary>
public sealed class AuthRoleOptions
{
    /// <summary>Grants <see cref="PrincipalRoles.Requester"/>.</summary>
    public string Requester { get; set; } = "RcmPitr.Requester";

    /// <summary>Grants <see cref="PrincipalRoles.Approver"/>.</summary>
    public string Approver { get; set; } = "RcmPitr.Approver";

    /// <summary>Grants <see cref="PrincipalRoles.Operator"/>.</summary>
    public string Operator { get; set; } = "RcmPitr.Operator";

    /// <summary>RcmPitr role → app role value.</summary>
    public IReadOnlyDictionary<string, string> ToMap() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [PrincipalRoles.Requester] = Requester,
        [PrincipalRoles.Approver] = Approver,
        [PrincipalRoles.Operator] = Operator,
    };
}
