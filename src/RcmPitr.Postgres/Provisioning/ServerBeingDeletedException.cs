namespace RcmPitr.Postgres.Provisioning;

/// <summary>
/// The restored server for this source and time is being deleted (its last holder released it). It is never attached
/// to; unlike RcmPitr's refusals this failure is retryable: once the deletion has finished, acquiring again creates
/// the server anew.
/// </summary>
public sealed class ServerBeingDeletedException(string serverName, string detail)
    : Exception($"The restored server {serverName} is being deleted ({detail}); it is not attached to. A later attempt creates it anew.")
{
    /// <summary>The server's name.</summary>
    public string ServerName { get; } = serverName;
}
