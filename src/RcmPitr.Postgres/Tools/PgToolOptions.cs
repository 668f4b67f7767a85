namespace RcmPitr.Postgres.Tools;

/// <summary>Where PostgreSQL programs are found.</summary>
public sealed class PgToolOptions
{
    /// <summary>The Debian/Ubuntu layout: one folder per major version.</summary>
    public const string DefaultVersionedRoot = "/usr/lib/postgresql";

    /// <summary>
    /// A single bin folder to use for every server (the <c>PG_BIN</c> environment variable). Its tools are
    /// still version-checked against each server. Null: pick <c>&lt;root&gt;/&lt;major&gt;/bin</c> per server.
    /// </summary>
    public string? BinDirectory { get; set; } = System.Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } bin ? bin : null;

    /// <summary>Folder holding one sub-folder per installed major version.</summary>
    public string VersionedRoot { get; set; } = DefaultVersionedRoot;
}
