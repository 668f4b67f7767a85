namespace RcmPitr.Postgres.Tools;

/// <summary>A located PostgreSQL client or server program and the version it reports.</summary>
public sealed record PgTool(string Name, string Path, int MajorVersion, string VersionText);
