namespace RcmPitr.Postgres.Sql;

/// <summary>A row of <c>pg_database</c> as RcmPitr needs it.</summary>
public sealed record DatabaseEntry(string Name, string Encoding, string Collate, string CType, string? Comment)
{
    /// <summary>The RcmPitr marker in the comment, if any.</summary>
    public DatabaseMarker? Marker => DatabaseMarker.TryParse(Comment);
}
