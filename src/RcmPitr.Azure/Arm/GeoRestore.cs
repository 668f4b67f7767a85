using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Azure.Arm;

/// <summary>
/// Input of an explicit geo-restore (region loss): the source's latest geo-backup restored in the paired region
/// (<see cref="AzureArmOptions.GeoRestoreLocation"/>). Never a point in time: there is no restore time to ask for.
/// </summary>
/// <param name="ServerName">The new server's name; asking again for the same name is a no-op.</param>
public sealed record GeoRestoreInput(string RunId, DbServerInfo Source, string ServerName);

/// <summary>Result of starting (or finding) a geo-restore.</summary>
/// <param name="Location">The paired region the server is restored in.</param>
/// <param name="RequestedAt">When the restore was asked for (the server's <c>rcm-pitr-geo-requested-at</c> tag).</param>
/// <param name="RestorePoint">
/// What the server holds, as far as Azure says: the latest geo-backup available in <paramref name="Location"/> at
/// <paramref name="RequestedAt"/>, which lags the source by up to an hour. Azure reports no exact time; read it from
/// the data before relying on it.
/// </param>
/// <param name="OperationUrl">ARM's async operation for the restore; poll it with <see cref="GetServerStateInput"/>.</param>
public sealed record GeoRestoreResult(string ServerName, ServerState State, bool AlreadyExisted, string Location, DateTimeOffset RequestedAt, string RestorePoint, string? OperationUrl = null);

/// <summary>The source's firewall rules on a geo-restored server (a point-in-time restore inherits them; a geo-restore does not).</summary>
/// <param name="SourceRules">The rules of the source, by name.</param>
/// <param name="Created">Rules this call asked Azure to create on the new server.</param>
/// <param name="Missing">Rules of the source the new server does not show yet: call again until empty.</param>
/// <param name="Problem">Why rules cannot be applied (the server is not Ready, or the source uses private access), or null.</param>
public sealed record FirewallRulesResult(IReadOnlyList<string> SourceRules, IReadOnlyList<string> Created, IReadOnlyList<string> Missing, string? Problem = null);
