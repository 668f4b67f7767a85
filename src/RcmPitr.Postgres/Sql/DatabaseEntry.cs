namespace RcmPitr.Postgres.Sql;

/// <summary>A row of <c>pg_database</c> as RcmPitr needs it.</summary>
/// <param name="AllowConnections"><c>datallowconn</c>: false while a cutover has closed the database to new sessions.</param>
public sealed record DatabaseEntry(string Name, string Encoding, string Collate, string CType, string? Comment, bool AllowConnections = true)
{
    /// <summary>The RcmPitr marker in the comment, if any.</summary>
    public DatabaseMarker? Marker => DatabaseMarker.TryParse(Comment);
}
