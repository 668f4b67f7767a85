using System.Net;
using Npgsql;

namespace RcmPitr.Postgres.Connections;

/// <summary>How RcmPitr connects to tenant servers.</summary>
public sealed class PgConnectionOptions
{
    /// <summary>The database used for catalog work (CREATE/ALTER/DROP DATABASE). Azure Flexible Server has <c>postgres</c>.</summary>
    public string MaintenanceDatabase { get; set; } = "postgres";

    /// <summary>
    /// TLS mode for connections and pg tools (<c>PGSSLMODE</c>) to servers reached over the network: the server's
    /// certificate and name are verified by default. Servers on this machine use <see cref="LoopbackSslMode"/>.
    /// </summary>
    public SslMode SslMode { get; set; } = SslMode.VerifyFull;

    /// <summary>
    /// TLS mode for servers on a loopback address (<c>127.0.0.0/8</c>, <c>::1</c>, <c>localhost</c>): the local
    /// environment's and the tests' clusters, whose traffic never leaves the machine and which have no certificate.
    /// </summary>
    public SslMode LoopbackSslMode { get; set; } = SslMode.Prefer;

    /// <summary>Connect timeout in seconds.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 30;

    /// <summary>Application name visible in <c>pg_stat_activity</c>, so operators can tell RcmPitr's sessions apart.</summary>
    public string ApplicationName { get; set; } = "rcm-pitr";

    /// <summary>
    /// Where pg tools' password files are written: a folder private to this process's user (0700, checked) on local
    /// storage, never the scratch folder (shared, persistent storage on Azure). Null: <c>$XDG_RUNTIME_DIR/rcm-pitr</c>,
    /// else <c>/dev/shm/rcm-pitr-&lt;uid&gt;</c> (memory only), else <c>&lt;temp&gt;/rcm-pitr-&lt;uid&gt;</c>.
    /// </summary>
    public string? PasswordFileDirectory { get; set; }

    /// <summary>The TLS mode for <paramref name="host"/>.</summary>
    public SslMode SslModeFor(string host) => IsLoopback(host) ? LoopbackSslMode : SslMode;

    /// <summary>The folder password files go to (<see cref="PasswordFileDirectory"/> or its default).</summary>
    public string ResolvePasswordFileDirectory()
    {
        if (!string.IsNullOrEmpty(PasswordFileDirectory))
        {
            return PasswordFileDirectory;
        }

        var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(runtime) && Directory.Exists(runtime))
        {
            return Path.Combine(runtime, "rcm-pitr");
        }

        var user = UnixFileStatus.EffectiveUserId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Directory.Exists("/dev/shm") ? Path.Combine("/dev/shm", "rcm-pitr-" + user) : Path.Combine(Path.GetTempPath(), "rcm-pitr-" + user);
    }

    /// <summary>Whether <paramref name="host"/> is a loopback address or <c>localhost</c> (never resolved: a name is taken as remote).</summary>
    public static bool IsLoopback(string? host) =>
        !string.IsNullOrEmpty(host) &&
        (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)));
}
