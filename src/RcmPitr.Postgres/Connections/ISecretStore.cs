namespace RcmPitr.Postgres.Connections;

/// <summary>
/// Resolves and writes secrets by reference. Activities receive only references; the values stay inside
/// the activity that needs them and never reach orchestration history, status or logs.
/// </summary>
public interface ISecretStore
{
    /// <summary>The secret's value. Throws <see cref="KeyNotFoundException"/> naming the reference (never a value) when absent.</summary>
    Task<string> GetSecretAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Creates or replaces the secret.</summary>
    Task SetSecretAsync(string reference, string value, CancellationToken cancellationToken);
}
