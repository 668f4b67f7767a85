namespace RcmPitr.Local;

/// <summary>Where everything of a local environment lives, under one home folder (default <c>./.rcm-local</c>).</summary>
public sealed class LocalLayout(string home)
{
    /// <summary>The default home, relative to the current directory.</summary>
    public const string DefaultHome = ".rcm-local";

    /// <summary>The home folder (absolute).</summary>
    public string Home { get; } = Path.GetFullPath(home);

    /// <summary>The environment's own record: ports, names, creation time.</summary>
    public string StateFile => Path.Combine(Home, "env.json");

    /// <summary>The embedded host's configuration, written by <c>local up</c>.</summary>
    public string HostConfig => Path.Combine(Home, "rcm-pitr.json");

    /// <summary>The local secret store (0600).</summary>
    public string SecretsFile => Path.Combine(Home, "secrets.json");

    /// <summary>API keys, one 0600 file per principal.</summary>
    public string KeysDirectory => Path.Combine(Home, "keys");

    /// <summary>The "live" cluster's folder.</summary>
    public string LiveDirectory => Path.Combine(Home, "live");

    /// <summary>Archived WAL of the live cluster (written by the server, as the postgres user when root).</summary>
    public string WalArchive => Path.Combine(Home, "wal-archive");

    /// <summary>Base backups, one folder each.</summary>
    public string BackupsDirectory => Path.Combine(Home, "backups");

    /// <summary>Point-in-time restored servers, one folder each.</summary>
    public string ServersDirectory => Path.Combine(Home, "servers");

    /// <summary>Lock files, one per restored server name: provisioning, starting and deleting one server never interleave.</summary>
    public string LocksDirectory => Path.Combine(Home, "locks");

    /// <summary>Dump scratch space.</summary>
    public string ScratchDirectory => Path.Combine(Home, "scratch");

    /// <summary>Pid file of a background host started by <c>local up</c>.</summary>
    public string HostPidFile => Path.Combine(Home, "host.pid");

    /// <summary>Log of that host.</summary>
    public string HostLog => Path.Combine(Home, "host.log");

    /// <summary>A principal's API key file.</summary>
    public string KeyFile(string principal) => Path.Combine(KeysDirectory, principal + ".key");
}
