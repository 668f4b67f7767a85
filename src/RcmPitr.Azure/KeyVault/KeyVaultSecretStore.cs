using System.Text.RegularExpressions;
using Azure;
using Azure.Security.KeyVault.Secrets;
using RcmPitr.Postgres.Connections;

namespace RcmPitr.Azure.KeyVault;

/// <summary>
/// The production secret store: Azure Key Vault through <see cref="SecretClient"/> (one per process). Values are
/// cached for a short time so one run does not fetch the same admin password for every connection; they
/// are never logged, and errors name only the reference.
/// </summary>
public sealed partial class KeyVaultSecretStore(SecretClient client, TimeProvider time, TimeSpan? cacheFor = null) : ISecretStore
{
    private readonly TimeSpan _cacheFor = cacheFor ?? TimeSpan.FromMinutes(5);
    private readonly Dictionary<string, (string Value, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public async Task<string> GetSecretAsync(string reference, CancellationToken cancellationToken)
    {
        RequireName(reference);
        lock (_gate)
        {
            if (_cache.TryGetValue(reference, out var cached) && cached.Until > time.GetUtcNow())
            {
                return cached.Value;
            }
        }

        try
        {
            var secret = await client.GetSecretAsync(reference, cancellationToken: cancellationToken);
            Remember(reference, secret.Value.Value);
            return secret.Value.Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new KeyNotFoundException($"Secret '{reference}' is not in Key Vault {client.VaultUri}.");
        }
    }

    /// <inheritdoc />
    public async Task SetSecretAsync(string reference, string value, CancellationToken cancellationToken)
    {
        RequireName(reference);
        await client.SetSecretAsync(reference, value, cancellationToken);
        Remember(reference, value);
    }

    private void Remember(string reference, string value)
    {
        lock (_gate)
        {
            _cache[reference] = (value, time.GetUtcNow() + _cacheFor);
        }
    }

    private static void RequireName(string reference)
    {
        if (reference is null || !NamePattern().IsMatch(reference))
        {
            throw new ArgumentException($"'{reference}' is not a Key Vault secret name (1-127 letters, digits and '-').", nameof(reference));
        }
    }

    [GeneratedRegex("^[0-9A-Za-z-]{1,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
