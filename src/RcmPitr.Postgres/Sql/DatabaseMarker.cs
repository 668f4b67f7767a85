using System.Text.RegularExpressions;

namespace RcmPitr.Postgres.Sql;

/// <summary>
/// The note RcmPitr leaves on a database it creates, as its <c>COMMENT ON DATABASE</c>. Database comments
/// live in the shared catalog and survive renames, so after a crash a re-run can tell which database
/// is which and whether a load finished — without trusting names alone.
/// Format: <c>rcm-pitr:&lt;state&gt; run=&lt;run id&gt; stamp=&lt;yyyyMMddHHmmss&gt;[ sha256=&lt;hex&gt;]</c>.
/// </summary>
public sealed partial record DatabaseMarker(string State, string RunId, string Stamp, string? Sha256 = null)
{
    /// <summary>The database was created and a load into it is under way (or was interrupted).</summary>
    public const string Loading = "loading";

    /// <summary>The load finished; the database holds a complete copy.</summary>
    public const string Loaded = "loaded";

    /// <summary>The tenant's previous live database, kept by the run's swap-and-keep cutover for a rollback.</summary>
    public const string Kept = "kept";

    /// <summary>The run's restored copy, parked by a rollback of its cutover.</summary>
    public const string Parked = "parked";

    /// <summary>The comment text.</summary>
    public string Format() => $"rcm-pitr:{State} run={RunId} stamp={Stamp}" + (Sha256 is null ? string.Empty : $" sha256={Sha256}");

    /// <summary>True when this marker says run <paramref name="runId"/> finished loading.</summary>
    public bool IsLoadedBy(string runId) => State == Loaded && RunId == runId;

    /// <summary>True when this marker says the database is <paramref name="state"/> by run <paramref name="runId"/>.</summary>
    public bool Is(string state, string runId) => State == state && RunId == runId;

    /// <summary>Parses a comment; null when it is not an RcmPitr marker (or there is no comment).</summary>
    public static DatabaseMarker? TryParse(string? comment)
    {
        if (comment is null)
        {
            return null;
        }

        var match = MarkerPattern().Match(comment);
        return match.Success
            ? new DatabaseMarker(
                match.Groups["state"].Value,
                match.Groups["run"].Value,
                match.Groups["stamp"].Value,
                match.Groups["sha"].Success ? match.Groups["sha"].Value : null)
            : null;
    }

    [GeneratedRegex(@"^rcm-pitr:(?<state>[a-z]+) run=(?<run>[A-Za-z0-9._-]+) stamp=(?<stamp>[0-9]{12}(?:[0-9]{2})?)( sha256=(?<sha>[0-9a-f]{64}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex MarkerPattern();
}
