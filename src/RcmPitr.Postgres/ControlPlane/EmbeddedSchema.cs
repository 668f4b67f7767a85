using System.Reflection;

namespace RcmPitr.Postgres.ControlPlane;

/// <summary>The versioned SQL scripts shipped in this assembly (<c>Schema/&lt;set&gt;/V###__name.sql</c>).</summary>
public static class EmbeddedSchema
{
    /// <summary>The control-plane (master database) scripts.</summary>
    public const string Master = "master";

    /// <summary>The embedded durable engine's state.</summary>
    public const string Engine = "engine";

    /// <summary>The tenant-database scripts (canary tables).</summary>
    public const string Tenant = "tenant";

    /// <summary>
    /// The master scripts that state what RcmPitr assumes of the platform's tables (identity.*): in production the
    /// platform owns those. Every other master script creates RcmPitr's own schema <c>rcm_pitr</c>.
    /// </summary>
    public static IReadOnlySet<string> PlatformMasterScripts { get; } = new HashSet<string>(StringComparer.Ordinal) { "V001__control_plane" };

    /// <summary>The master scripts of RcmPitr's own schema (<c>rcm_pitr</c>), ordered by version.</summary>
    public static IReadOnlyList<(string Name, string Sql)> OwnMasterScripts() =>
        Scripts(Master).Where(script => !PlatformMasterScripts.Contains(script.Name)).ToList();

    /// <summary>The scripts of <paramref name="set"/>, ordered by version, as (name, sql).</summary>
    public static IReadOnlyList<(string Name, string Sql)> Scripts(string set)
    {
        var assembly = typeof(EmbeddedSchema).Assembly;
        var prefix = $"RcmPitr.Schema.{set}/";
        return assembly.GetManifestResourceNames()
            .Select(n => n.Replace('\\', '/'))
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => (Path.GetFileNameWithoutExtension(n), Read(assembly, n)))
            .ToList();
    }

    private static string Read(Assembly assembly, string name)
    {
        var resource = assembly.GetManifestResourceNames().Single(r => r.Replace('\\', '/') == name);
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
