using System.Text.Json;

namespace RcmPitr.Postgres.Connections;

/// <summary>
/// The embedded host's secret store: a JSON object of reference → value in a file only its owner can
/// read (mode 0600), written atomically. Environment variables <c>RCMPITR_SECRET_&lt;REF&gt;</c> (the
/// reference upper-cased, other characters as '_') override the file, for containers.
/// </summary>
public sealed class LocalSecretStore(string path) : ISecretStore
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The file backing the store.</summary>
    public string Path { get; } = path;

    /// <summary>The environment variable that overrides <paramref name="reference"/>.</summary>
    public static string EnvironmentVariableFor(string reference) =>
        "RCMPITR_SECRET_" + new string((reference ?? string.Empty).Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_').ToArray());

    /// <inheritdoc />
    public async Task<string> GetSecretAsync(string reference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        if (Environment.GetEnvironmentVariable(EnvironmentVariableFor(reference)) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        var secrets = await ReadAsync(cancellationToken);
        return secrets.TryGetValue(reference, out var value)
            ? value
            : throw new KeyNotFoundException($"Secret '{reference}' is not in {Path} nor in ${EnvironmentVariableFor(reference)}.");
    }

    /// <inheritdoc />
    public async Task SetSecretAsync(string reference, string value, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        ArgumentNullException.ThrowIfNull(value);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var secrets = await ReadAsync(cancellationToken);
            secrets[reference] = value;
            var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
            Directory.CreateDirectory(directory);
            // A fresh, unguessable name created new: a file planted under a predictable one keeps its owner and mode.
            var temporary = Path + ".tmp-" + Guid.NewGuid().ToString("N");
            var fileOptions = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            await using (var stream = new FileStream(temporary, fileOptions))
            {
                await JsonSerializer.SerializeAsync(stream, secrets, cancellationToken: cancellationToken);
            }

            File.Move(temporary, Path, overwrite: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Dictionary<string, string>> ReadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        await using var stream = File.OpenRead(Path);
        return await JsonSerializer.DeserializeAsync<Dictionary<string, string>>(stream, cancellationToken: cancellationToken)
               ?? new Dictionary<string, string>(StringComparer.Ordinal);
    }
}
