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

/// <summary>
/// The restored copy's owners and privileges compared with live's before approval (part of the change report). The copy was
/// given live's (<see cref="OwnershipSummary"/>); a difference here means that did not take, or something changed since.
/// </summary>
/// <param name="ObjectsCompared">Objects (schemas, tables, sequences, views, functions, types) in both databases.</param>
/// <param name="OnlyInLive">Objects only live has (created after the restore time): they leave with the cutover.</param>
/// <param name="OnlyInCopy">Objects only the copy has (dropped after the restore time): they come back, owned by the admin.</param>
public sealed record PrivilegeComparison(int ObjectsCompared, int OnlyInLive, int OnlyInCopy, IReadOnlyList<PrivilegeDifference> Differences);

/// <summary>One object whose owner or privileges differ between live and the copy.</summary>
/// <param name="Kind"><c>table</c>, <c>schema</c>, <c>sequence</c>, <c>function</c>, <c>database</c>, <c>default privileges</c>, …</param>
/// <param name="Object">The object, quoted as SQL names it.</param>
/// <param name="LiveOwner">Live's owner, when the owners differ.</param>
/// <param name="CopyOwner">The copy's owner, when the owners differ.</param>
/// <param name="LiveAcl">Live's privileges as <c>grantee:PRIVILEGE</c> items (<c>*</c>: with grant option), when they differ.</param>
/// <param name="CopyAcl">The copy's privileges, when they differ.</param>
public sealed record PrivilegeDifference(string Kind, string Object, string? LiveOwner, string? CopyOwner, string? LiveAcl, string? CopyAcl);
