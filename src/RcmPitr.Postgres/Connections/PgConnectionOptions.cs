using Npgsql;

namespace RcmPitr.Postgres.Connections;

/// <summary>How RcmPitr connects to tenant servers.</summary>
public sealed class PgConnectionOptions
{
    /// <summary>The database used for catalog work (CREATE/ALTER/DROP DATABASE). Azure Flexible Server has <c>postgres</c>.</summary>
    public string MaintenanceDatabase { get; set; } = "postgres";

    /// <summary>TLS mode for connections and pg tools (<c>PGSSLMODE</c>). Azure requires TLS: use <c>Require</c> or stricter there.</summary>
    public SslMode SslMode { get; set; } = SslMode.Prefer;

    /// <summary>Connect timeout in seconds.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 30;

    /// <summary>Application name visible in <c>pg_stat_activity</c>, so operators can tell RcmPitr's sessions apart.</summary>
    public string ApplicationName { get; set; } = "rcm-pitr";
}
