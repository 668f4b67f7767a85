namespace RcmPitr.Workflow.Contracts;

/// <summary>
/// How to reach a PostgreSQL server, without its secret: <see cref="AdminSecretRef"/> names the secret
/// and each activity resolves it itself, so no password ever enters orchestration history.
/// </summary>
/// <param name="Name">The server's name (Azure resource name, or the local cluster's name).</param>
/// <param name="Fqdn">Host name or address to connect to.</param>
/// <param name="Port">TCP port.</param>
/// <param name="AdminUser">Administrator login.</param>
/// <param name="AdminSecretRef">Reference to the administrator password in the secret store.</param>
/// <param name="MajorVersion">PostgreSQL major version the control plane records for the server.</param>
/// <param name="ArmResourceId">Azure resource id, when the server lives in Azure.</param>
public sealed record DbServerInfo(
    string Name,
    string Fqdn,
    int Port,
    string AdminUser,
    string AdminSecretRef,
    int MajorVersion,
    string? ArmResourceId = null);
