namespace RcmPitr.Local;

/// <summary>
/// The first thing written into a restored server's folder (<c>owner.json</c>, in place before the folder gets its
/// name): RcmPitr created this folder for <paramref name="Source"/> restored to <paramref name="RestoreTime"/>. A folder
/// without it was not made by RcmPitr and is never used or deleted; a folder with it but without a finished server
/// record is an interrupted provisioning that the same name and time resumes.
/// </summary>
/// <param name="CreatedBy">Always <see cref="RcmPitr"/>.</param>
/// <param name="Name">The server's name.</param>
/// <param name="Source">The source (live) server's name.</param>
/// <param name="RestoreTime">The time it is restored to.</param>
/// <param name="CreatedAt">When the folder was made.</param>
/// <param name="Kind">Null: a point-in-time restore to <paramref name="RestoreTime"/>; <see cref="GeoKind"/>: a geo-restore (region
/// loss) asked for at <paramref name="RestoreTime"/>, holding the newest base backup and the whole WAL archive.</param>
public sealed record LocalServerOwner(string CreatedBy, string Name, string Source, DateTimeOffset RestoreTime, DateTimeOffset CreatedAt, string? Kind = null)
{
    /// <summary>The <see cref="Kind"/> of a geo-restored server.</summary>
    public const string GeoKind = "geo";

    /// <summary>The value of <see cref="CreatedBy"/>.</summary>
    public const string RcmPitr = "rcm-pitr";
}
