using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RcmPitr.Workflow.Identity;

namespace RcmPitr.Api;

/// <summary>
/// The API-key principals of the embedded host, checked when the host starts and then held as SHA-256 hashes only. A
/// presented key is hashed and compared with every principal's hash in constant time (equal lengths, no early exit), so
/// timing says nothing about which key nearly matched or how long any is.
/// </summary>
/// <remarks>
/// Refused at start-up, each problem named by principal and never by key: a hash that is not 64 hex digits; a principal
/// without a key; an unknown role; two principals that are one after trimming and case-folding; one key for two
/// principals; a legacy plaintext key shorter than <see cref="MinimumKeyLength"/> or containing whitespace; a legacy key
/// naming a principal that <c>Principals</c> configures too.
/// </remarks>
public sealed class ApiKeyPrincipals
{
    /// <summary>The shortest plaintext key accepted (keys <c>rcm-pitr local up</c> writes have 48 hex digits).</summary>
    public const int MinimumKeyLength = 32;

    private readonly IReadOnlyList<(byte[] Hash, Principal Principal)> _keys;

    private ApiKeyPrincipals(IReadOnlyList<(byte[] Hash, Principal Principal)> keys, IReadOnlyList<string> legacyPrincipals)
    {
        _keys = keys;
        LegacyPrincipals = legacyPrincipals;
    }

    /// <summary>The roles of a principal configured without any: requester and approver.</summary>
    public static IReadOnlyList<string> DefaultRoles { get; } = [PrincipalRoles.Requester, PrincipalRoles.Approver];

    /// <summary>Ids of principals whose key came from the legacy plaintext map (to be moved to <c>Principals</c>).</summary>
    public IReadOnlyList<string> LegacyPrincipals { get; }

    /// <summary>How many principals there are.</summary>
    public int Count => _keys.Select(k => k.Principal.Id).Distinct(StringComparer.Ordinal).Count();

    /// <summary>
    /// Loads <paramref name="principals"/> (name → key hash and roles) and the legacy <paramref name="legacyKeys"/>
    /// (plaintext key → principal name, hashed here; every legacy principal gets <see cref="DefaultRoles"/>; several keys
    /// may name one principal, e.g. during a rotation). Throws <see cref="InvalidOperationException"/> listing every problem.
    /// </summary>
    public static ApiKeyPrincipals Load(IReadOnlyDictionary<string, ApiKeyPrincipalOptions>? principals, IReadOnlyDictionary<string, string>? legacyKeys)
    {
        var problems = new List<string>();
        var keys = new List<(byte[] Hash, Principal Principal, string Source)>();
        var configuredIds = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, options) in (principals ?? new Dictionary<string, ApiKeyPrincipalOptions>()).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var id = PrincipalIds.Normalize(name);
            var where = $"RcmPitr:Principals:{name}";
            if (id.Length == 0)
            {
                problems.Add("RcmPitr:Principals: a principal needs a non-empty name");
                continue;
            }

            if (configuredIds.TryGetValue(id, out var earlier))
            {
                problems.Add($"RcmPitr:Principals: '{earlier}' and '{name}' are one principal ('{id}') once trimmed and case-folded; keep one");
                continue;
            }

            configuredIds[id] = name;
            var roles = Roles(options?.Roles, where, problems);
            var hash = ParseHash(options?.KeySha256, where, problems);
            if (hash is not null && roles is not null)
            {
                keys.Add((hash, Principal.Create(id, name, roles), name.Trim()));
            }
        }

        var legacy = new List<string>();
        foreach (var (key, name) in (legacyKeys ?? new Dictionary<string, string>()).OrderBy(k => k.Value, StringComparer.Ordinal))
        {
            var id = PrincipalIds.Normalize(name);
            if (id.Length == 0)
            {
                problems.Add("RcmPitr:ApiKeys: a key maps to an empty principal name");
                continue;
            }

            if (configuredIds.ContainsKey(id))
            {
                problems.Add($"RcmPitr:ApiKeys: a key names '{id}', which RcmPitr:Principals configures too; move that key's hash there and remove it from ApiKeys");
                continue;
            }

            if (key.Length < MinimumKeyLength)
            {
                problems.Add($"RcmPitr:ApiKeys: the key of '{id}' is shorter than {MinimumKeyLength} characters; use a long random key (rcm-pitr local up writes 48 hex digits)");
                continue;
            }

            if (key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                problems.Add($"RcmPitr:ApiKeys: the key of '{id}' contains whitespace or control characters");
                continue;
            }

            keys.Add((Hash(key), Principal.Create(id, name, DefaultRoles), id));
            if (!legacy.Contains(id, StringComparer.Ordinal))
            {
                legacy.Add(id);
            }
        }

        foreach (var group in keys.GroupBy(k => Convert.ToHexString(k.Hash), StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"RcmPitr: {string.Join(" and ", group.Select(k => $"'{k.Source}'"))} have the same key; every principal needs its own");
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException("The API principals are misconfigured: " + string.Join("; ", problems) + ".");
        }

        return new ApiKeyPrincipals(keys.Select(k => (k.Hash, k.Principal)).ToList(), legacy);
    }

    /// <summary>The principal whose key <paramref name="presentedKey"/> is, or null.</summary>
    public Principal? Authenticate(string? presentedKey)
    {
        if (string.IsNullOrEmpty(presentedKey))
        {
            return null;
        }

        var presented = Hash(presentedKey);
        Principal? match = null;
        foreach (var (hash, principal) in _keys)
        {
            // Every entry is compared, whatever matched before: the time taken does not depend on which key matched.
            if (CryptographicOperations.FixedTimeEquals(presented, hash))
            {
                match = principal;
            }
        }

        return match;
    }

    /// <summary>The SHA-256 of <paramref name="key"/>'s UTF-8 bytes as 64 lowercase hex digits (what <c>KeySha256</c> holds).</summary>
    public static string HashHex(string key) => Convert.ToHexStringLower(Hash(key));

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static byte[]? ParseHash(string? hex, string where, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(hex))
        {
            problems.Add($"{where}: KeySha256 is required (the SHA-256 of the principal's key, 64 hex digits)");
            return null;
        }

        var trimmed = hex.Trim();
        if (trimmed.Length != SHA256.HashSizeInBytes * 2 || !trimmed.All(char.IsAsciiHexDigit))
        {
            problems.Add($"{where}: KeySha256 is not 64 hex digits (it holds the SHA-256 of the key, never the key)");
            return null;
        }

        return Convert.FromHexString(trimmed);
    }

    private static IReadOnlyList<string>? Roles(string[]? configured, string where, List<string> problems)
    {
        if (configured is not { Length: > 0 })
        {
            return DefaultRoles;
        }

        var roles = configured.Select(r => (r ?? string.Empty).Trim().ToLower(CultureInfo.InvariantCulture)).ToList();
        var unknown = roles.Where(r => !PrincipalRoles.All.Contains(r)).ToList();
        if (unknown.Count > 0)
        {
            problems.Add($"{where}: unknown role {string.Join(", ", unknown.Select(r => $"'{RequestValidation.Echo(r)}'"))} (use {string.Join(", ", PrincipalRoles.All)})");
            return null;
        }

        return roles;
    }
}
