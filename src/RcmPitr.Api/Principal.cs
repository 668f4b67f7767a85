using RcmPitr.Workflow.Identity;

namespace RcmPitr.Api;

/// <summary>
/// An authenticated caller: a stable <see cref="Id"/> (normalized; what four eyes compares and the audit records), a
/// display <see cref="Name"/>, and the roles that say what the caller may do. Hosts build it from verified credentials
/// only — an API key on the embedded host, App Service authentication's claims on Azure — never from a header or body
/// field a client can set.
/// </summary>
public sealed record Principal
{
    private Principal(string id, string name, IReadOnlySet<string> roles)
    {
        Id = id;
        Name = name;
        Roles = roles;
    }

    /// <summary>The normalized stable id.</summary>
    public string Id { get; }

    /// <summary>How the caller is shown; the id when there is no other name.</summary>
    public string Name { get; }

    /// <summary>The caller's roles (<see cref="PrincipalRoles"/>).</summary>
    public IReadOnlySet<string> Roles { get; }

    /// <summary>A principal from verified values; the id is normalized, unknown role names are dropped.</summary>
    public static Principal Create(string id, string? name, IEnumerable<string> roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var normalized = PrincipalIds.Normalize(id);
        if (normalized.Length == 0)
        {
            throw new ArgumentException("A principal needs a non-empty id.", nameof(id));
        }

        var known = roles.Select(r => r.Trim().ToLowerInvariant()).Where(PrincipalRoles.All.Contains).ToHashSet(StringComparer.Ordinal);
        return new Principal(normalized, string.IsNullOrWhiteSpace(name) ? normalized : name.Trim(), known);
    }

    /// <summary>True when the caller holds <paramref name="role"/>.</summary>
    public bool Has(string role) => Roles.Contains(role);

    /// <summary>True when this is the principal recorded as <paramref name="id"/>.</summary>
    public bool Is(string? id) => PrincipalIds.Same(Id, id);
}
