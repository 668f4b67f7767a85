namespace RcmPitr.Postgres.Sql;

/// <summary>What <see cref="ServerCatalog.SwapAsync"/> does, all in one transaction after closing <see cref="CloseFirst"/>.</summary>
/// <param name="CloseFirst">The live database: closed to new sessions before its sessions are ended.</param>
/// <param name="Renames">The renames, in order.</param>
/// <param name="OpenAfter">Databases (by their new names) opened to sessions again in the same transaction.</param>
/// <param name="Markers">Comments written in the same transaction (null clears one), by the databases' new names.</param>
public sealed record DatabaseSwap(
    string CloseFirst,
    IReadOnlyList<(string From, string To)> Renames,
    IReadOnlyList<string> OpenAfter,
    IReadOnlyList<(string Database, DatabaseMarker? Marker)> Markers);
