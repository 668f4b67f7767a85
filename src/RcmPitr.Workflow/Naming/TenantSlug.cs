using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Workflow.Naming;

/// <summary>
/// A validated tenant slug: lowercase ASCII letters and digits in hyphen-separated groups, as
/// <c>provision-tenant</c> issues them. Anything else (quotes, spaces, uppercase, SQL) is refused
/// before it can reach a query, a file name or a server name.
/// </summary>
public sealed partial record TenantSlug
{
    /// <summary>
    /// Longest slug whose canonical database name <c>tenant_&lt;slug&gt;</c> fits PostgreSQL's 63-byte
    /// identifier limit. Derived names that would not fit are shortened by <see cref="TenantDatabaseNames"/>.
    /// </summary>
    public const int MaxLength = PgIdentifierRules.MaxBytes - TenantDatabaseNames.CanonicalPrefixLength;

    private TenantSlug(string value) => Value = value;

    /// <summary>The slug text.</summary>
    public string Value { get; }

    /// <summary>Parses <paramref name="value"/> or throws <see cref="InvalidRestoreInputException"/> saying why.</summary>
    public static TenantSlug Parse(string? value, string field = "tenant")
    {
        if (TryParse(value, out var slug, out var problem))
        {
            return slug;
        }

        throw new InvalidRestoreInputException(field, problem);
    }

    /// <summary>Parses <paramref name="value"/>; on failure <paramref name="problem"/> says why.</summary>
    public static bool TryParse(
        string? value,
        [NotNullWhen(true)] out TenantSlug? slug,
        [NotNullWhen(false)] out string? problem)
    {
        slug = null;
        if (string.IsNullOrEmpty(value))
        {
            problem = "a tenant slug is required";
            return false;
        }

        if (value.Length > MaxLength)
        {
            problem = $"'{Shorten(value)}' is {value.Length} characters; a slug may have at most {MaxLength} " +
                      "so that its database name tenant_<slug> fits PostgreSQL's 63-byte identifier limit";
            return false;
        }

        if (!SlugPattern().IsMatch(value))
        {
            problem = $"'{Shorten(value)}' is not a tenant slug: use lowercase letters and digits in groups " +
                      "separated by single hyphens (for example 'acme' or 'globex-health')";
            return false;
        }

        if (ReservedSuffixPattern().IsMatch(value))
        {
            problem = $"'{value}' ends like a name RcmPitr generates (-restore-, -pre-pitr-, -rollback- or -asof- " +
                      "followed by a stamp); its database could be mistaken for another tenant's copy";
            return false;
        }

        slug = new TenantSlug(value);
        problem = null;
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => Value;

    // Echoing an attacker-sized value back into an error message helps nobody.
    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "…";

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex SlugPattern();

    [GeneratedRegex("-(restore|pre-pitr|rollback|asof)-[0-9]{12}([0-9]{2})?(-[0-9a-f]{6})?$", RegexOptions.CultureInvariant)]
    private static partial Regex ReservedSuffixPattern();
}
