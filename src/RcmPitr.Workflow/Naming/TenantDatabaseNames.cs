using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Workflow.Naming;

/// <summary>
/// Every database name the runbook uses for one tenant, derived deterministically from the slug so a
/// re-run finds what an earlier attempt created. Hyphens in the slug become underscores, as
/// <c>provision-tenant</c> does.
/// </summary>
/// <remarks>
/// A derived name is <c>tenant_&lt;x&gt;_&lt;kind&gt;_&lt;stamp&gt;_&lt;run tag&gt;</c>: the kind (<c>restore</c>,
/// <c>pre_pitr</c>, <c>rollback</c>, <c>asof</c>), the restore time to the second, and <see cref="RunIds.Tag"/> of the
/// run that made it, so two runs never share a name (the runbook's minute stamp alone would let a later restore to
/// the same minute take over an earlier run's kept database). Every such database also carries its run's marker.
/// A derived name (<c>tenant_&lt;x&gt;_pre_pitr_&lt;stamp&gt;_&lt;tag&gt;</c> and friends) can exceed PostgreSQL's 63-byte
/// limit for long slugs. PostgreSQL would silently truncate it, and two different names could then
/// collide, so such names are shortened here instead, deterministically: the canonical part is cut and
/// followed by <c>_</c> and the first 8 hex digits of its SHA-256, then the suffix. The suffix (kind,
/// stamp and run tag) always survives, so an operator reading <c>\l</c> still sees what each database is.
/// </remarks>
public sealed partial record TenantDatabaseNames
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

    /// <summary>The new database run <paramref name="runId"/> loads the PITR copy into: <c>…_restore_&lt;stamp&gt;_&lt;run tag&gt;</c>.</summary>
    public string Restore(RestoreStamp stamp, string runId) => Derived("_restore_", stamp, runId);

    /// <summary>The pre-restore database run <paramref name="runId"/> keeps after a swap-and-keep cutover: <c>…_pre_pitr_&lt;stamp&gt;_&lt;run tag&gt;</c>.</summary>
    public string PrePitr(RestoreStamp stamp, string runId) => Derived("_pre_pitr_", stamp, runId);

    /// <summary>Where the rollback of run <paramref name="runId"/> parks its restored database: <c>…_rollback_&lt;stamp&gt;_&lt;run tag&gt;</c>.</summary>
    public string Rollback(RestoreStamp stamp, string runId) => Derived("_rollback_", stamp, runId);

    /// <summary>A compliance as-of copy made by run <paramref name="runId"/>, kept beside the live database: <c>…_asof_&lt;stamp&gt;_&lt;run tag&gt;</c>.</summary>
    public string AsOf(RestoreStamp stamp, string runId) => Derived("_asof_", stamp, runId);

    /// <summary>The derived database of <paramref name="kind"/> for run <paramref name="runId"/>; never <see cref="Canonical"/>.</summary>
    public string Derived(DerivedDatabaseKind kind, RestoreStamp stamp, string runId) => kind switch
    {
        DerivedDatabaseKind.Restore => Restore(stamp, runId),
        DerivedDatabaseKind.PrePitr => PrePitr(stamp, runId),
        DerivedDatabaseKind.Rollback => Rollback(stamp, runId),
        DerivedDatabaseKind.AsOf => AsOf(stamp, runId),
        _ => throw new InvalidRestoreInputException("kind", $"'{kind}' is not a derived database kind"),
    };

    /// <summary>The names of every derived database of run <paramref name="runId"/>; none of them is <see cref="Canonical"/>.</summary>
    public IReadOnlyList<string> AllDerived(RestoreStamp stamp, string runId) =>
        [Restore(stamp, runId), PrePitr(stamp, runId), Rollback(stamp, runId), AsOf(stamp, runId)];

    /// <summary>
    /// True when <paramref name="database"/> is this tenant's canonical database or one RcmPitr derives from it
    /// (<c>_restore_</c>, <c>_pre_pitr_</c>, <c>_rollback_</c>, <c>_asof_</c> followed by a stamp, with or without a run tag):
    /// the databases a flip-the-ref cutover may have made live. Never a sibling's name.
    /// </summary>
    public bool IsOwnDatabase(string database)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (database == Canonical)
        {
            return true;
        }

        var match = DerivedPattern().Match(database);
        if (!match.Success)
        {
            return false;
        }

        // Recompute the name from its parts: equal only when it was derived from this canonical name.
        var head = database[..match.Index];
        var suffix = database[match.Index..];
        var expected = Shorten(suffix);
        return expected == head + suffix;
    }

    /// <summary>
    /// <paramref name="database"/> when it is one of this tenant's own names (<see cref="IsOwnDatabase"/>), the canonical name
    /// when it is null; otherwise throws <see cref="InvalidRestoreInputException"/> for <paramref name="field"/>.
    /// </summary>
    public string OwnOrCanonical(string? database, string field) =>
        database is null ? Canonical
        : IsOwnDatabase(database) ? database
        : throw new InvalidRestoreInputException(field, $"'{database}' is not one of tenant {Slug.Value}'s databases");

    private string Derived(string kind, RestoreStamp stamp, string runId)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        return Shorten(kind + stamp.Value + "_" + RunIds.Tag(runId));
    }

    private string Shorten(string suffix)
    {
        var name = Canonical + suffix;
        if (name.Length > PgIdentifierRules.MaxBytes)
        {
            var keep = PgIdentifierRules.MaxBytes - suffix.Length - HashHexLength - 1;
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical)))[..HashHexLength];
            name = Canonical[..keep].TrimEnd('_') + "_" + hash + suffix;
        }

        return PgIdentifierRules.RequireDatabaseName(name);
    }

    [GeneratedRegex("_(restore|pre_pitr|rollback|asof)_[0-9]{12}([0-9]{2})?(_[0-9a-f]{6})?$", RegexOptions.CultureInvariant)]
    private static partial Regex DerivedPattern();
}
