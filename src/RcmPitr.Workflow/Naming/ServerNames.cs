using System.Text.RegularExpressions;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Workflow.Naming;

/// <summary>
/// Names of point-in-time restored servers: <c>&lt;source&gt;-pitr-&lt;yyyyMMddHHmmss&gt;</c> — one server per source server
/// and restore time to the second, shared by every run that restores from that source to that time — checked against Azure's
/// flexible-server name rule (3–63 characters, lowercase letters, digits and single inner hyphens) before
/// any call is made.
/// </summary>
public static partial class ServerNames
{
    /// <summary>Azure's maximum server name length.</summary>
    public const int MaxLength = 63;

    /// <summary>The PITR server's name for <paramref name="sourceServer"/> restored to <paramref name="stamp"/>.</summary>
    public static string Pitr(string sourceServer, RestoreStamp stamp)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        return Require($"{RequireSource(sourceServer)}-pitr-{stamp.Value}", "serverName");
    }

    /// <summary>
    /// The geo-restored server's name for <paramref name="sourceServer"/>, asked for at <paramref name="stamp"/> (region loss):
    /// <c>&lt;source&gt;-geo-&lt;yyyyMMddHHmmss&gt;</c>. The stamp is when the recovery asked, not a restore time: a geo-restore
    /// brings back the latest geo-backup, never a chosen second.
    /// </summary>
    public static string Geo(string sourceServer, RestoreStamp stamp)
    {
        ArgumentNullException.ThrowIfNull(stamp);
        return Require($"{RequireSource(sourceServer)}-geo-{stamp.Value}", "serverName");
    }

    /// <summary>True when <paramref name="name"/> has the shape of a geo-restored server's name (<see cref="Geo"/>).</summary>
    public static bool IsGeo(string name) => GeoPattern().IsMatch(name ?? string.Empty);

    /// <summary>Returns <paramref name="name"/> when it is a valid flexible-server name, else throws saying why.</summary>
    public static string Require(string? name, string field)
    {
        if (name is null || name.Length < 3 || name.Length > MaxLength || !NamePattern().IsMatch(name))
        {
            throw new InvalidRestoreInputException(
                field, $"'{name}' is not a valid server name (3-{MaxLength} lowercase letters and digits, single hyphens between them)");
        }

        return name;
    }

    private static string RequireSource(string? sourceServer)
    {
        var source = Require(sourceServer, "sourceServer");
        const int suffix = 20; // "-pitr-" + 14-digit stamp (the longer of the two suffixes; "-geo-" is 19)
        return source.Length + suffix <= MaxLength
            ? source
            : throw new InvalidRestoreInputException(
                "sourceServer", $"'{source}' is {source.Length} characters; the restored server's name '<source>-pitr-<stamp>' would exceed {MaxLength}");
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*-geo-[0-9]{14}$", RegexOptions.CultureInvariant)]
    private static partial Regex GeoPattern();

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
