namespace RcmPitr.Workflow.Contracts;

/// <summary>
/// What re-applying the live database's owners and privileges to a restored copy changed: counts only, never names
/// of rows or data.
/// </summary>
/// <param name="Owners">Owners changed, by object kind (schema, table, sequence, view, function, type, database, …).</param>
/// <param name="Privileges">GRANT and REVOKE statements run, by object kind (including <c>database</c> and
/// <c>default privileges</c>).</param>
/// <param name="MissingInCopy">Objects of the live database the copy does not have (created after the restore time).</param>
/// <param name="OnlyInCopy">Objects of the copy live does not have (dropped after the restore time): left owned by the
/// admin, with default privileges.</param>
public sealed record OwnershipSummary(
    IReadOnlyDictionary<string, int> Owners,
    IReadOnlyDictionary<string, int> Privileges,
    int MissingInCopy,
    int OnlyInCopy);
