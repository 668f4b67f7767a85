namespace RcmPitr.Workflow.Identity;

/// <summary>
/// How two principal ids are compared wherever four eyes are enforced: trimmed and case-folded, so <c>" Alice"</c> and
/// <c>"alice"</c> are one person. Ids are stable identities (an API key's principal id, an Entra object id), never
/// display names a client can set.
/// </summary>
public static class PrincipalIds
{
    /// <summary>The normalized form of <paramref name="id"/>.</summary>
    public static string Normalize(string? id) => (id ?? string.Empty).Trim().ToLowerInvariant();

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> name the same principal.</summary>
    public static bool Same(string? a, string? b) => Normalize(a).Length > 0 && Normalize(a) == Normalize(b);
}
