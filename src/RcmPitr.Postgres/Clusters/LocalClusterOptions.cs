namespace RcmPitr.Postgres.Clusters;

/// <summary>How a local PostgreSQL cluster is created.</summary>
public sealed class LocalClusterOptions
{
    /// <summary>Folder the cluster lives in (data directory, socket, log). Created if missing.</summary>
    public required string RootDirectory { get; init; }

    /// <summary>Name used in logs and as the server's name in the control plane.</summary>
    public string Name { get; init; } = "local";

    /// <summary>Superuser created by initdb.</summary>
    public string SuperUser { get; init; } = "rcm_admin";

    /// <summary>Superuser password (scram-sha-256 auth is enforced on TCP).</summary>
    public required string Password { get; init; }

    /// <summary>TCP port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>
    /// Trade crash safety for speed (fsync off). Right for throwaway test clusters, wrong for anything
    /// whose data must survive a machine crash.
    /// </summary>
    public bool Throwaway { get; init; }

    /// <summary>Extra <c>postgresql.conf</c> settings, written verbatim as <c>key = value</c>.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}
