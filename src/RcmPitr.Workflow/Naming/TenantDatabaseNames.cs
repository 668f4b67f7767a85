using System.Security.Cryptography;
using System.Text;

namespace RcmPitr.Workflow.Naming;

/// <summary>
/// Every database name the runbook uses for one tenant, derived deterministically from the slug so a
/// re-run finds what an earlier attempt created. Hyphens in the slug become underscores, as
/// <c>provision-tenant</c> does.
/// </summary>
/// <remarks>
/// A derived name (<c>tenant_&lt;x&gt;_pre_pitr_&lt;stamp&gt;</c> and friends) can exceed PostgreSQL's 63-byte
/// limit for long slugs. PostgreSQL would silently truncate it, and two different names could then
/// collide, so such names are shortened here instead, deterministically: the canonical part is cut and
/// followed by <c>_</c> and the first 8 hex digits of its SHA-256, then the suffix. The suffix (kind and
/// stamp) always survives, so an operator reading <c>\l</c> still sees what each database is.
/// </remarks>
public sealed record TenantDatabaseNames
{
    /// <summary>Length of <c>tenant_</c>.</summary>
    public const int CanonicalPrefixLength = 7;

    private const int HashHexLength = 8;

    private TenantDatabaseNames(TenantSlug slug, string canonical)
    {
        Slug = slug;
        Canonical = canonical;
    }

    /// <summary>The tenant's slug.</summary>
    public TenantSlug Slug { get; }

    /// <summary>The live database: <c>tenant_&lt;slug with - as _&gt;</c>.</summary>
    public string Canonical { get; }

    /// <summary>The names for <paramref name="slug"/>.</summary>
    public static TenantDatabaseNames For(TenantSlug slug)
    {
        ArgumentNullException.ThrowIfNull(slug);
        var canonical = "tenant_" + slug.Value.Replace('-', '_');
        return new TenantDatabaseNames(slug, PgIdentifierRules.RequireDatabaseName(canonical, "tenant"));
    }

    /// <summary>The new database the PITR copy is loaded into: <c>…_restore_&lt;stamp&gt;</c>.</summary>
    public string Restore(RestoreStamp stamp) => Derived("_restore_", stamp);

    /// <summary>The pre-restore database kept after a swap-and-keep cutover: <c>…_pre_pitr_&lt;stamp&gt;</c>.</summary>
    public string PrePitr(RestoreStamp stamp) => Derived("_pre_pitr_", stamp);

    /// <summary>Where a rollback parks the restored database: <c>…_rollback_&lt;stamp&gt;</c>.</summary>
    public string Rollback(RestoreStamp stamp) => Derived("_rollback_", stamp);

    /// <summary>A compliance as-of copy kept beside the live database: <c>…_asof_&lt;stamp&gt;</c>.</summary>
    public string AsOf(RestoreStamp stamp) => Derived("_asof_", stamp);

    /// <summary>The names of every derived database for <paramref name="stamp"/>; none of them is <see cref="Canonical"/>.</summary>
    public IReadOnlyList<string> AllDerived(RestoreStamp stamp) => [Restore(stamp), PrePitr(stamp), Rollback(stamp), AsOf(stamp)];

    private string Derived(string kind, RestoreStamp stamp)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        var suffix = kind + stamp.Value;
        var name = Canonical + suffix;
        if (name.Length > PgIdentifierRules.MaxBytes)
        {
            var keep = PgIdentifierRules.MaxBytes - suffix.Length - HashHexLength - 1;
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical)))[..HashHexLength];
            name = Canonical[..keep].TrimEnd('_') + "_" + hash + suffix;
        }

        return PgIdentifierRules.RequireDatabaseName(name);
    }
}
