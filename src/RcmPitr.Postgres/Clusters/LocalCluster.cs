using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RcmPitr.Postgres.Processes;
using RcmPitr.Postgres.Tools;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Clusters;

/// <summary>
/// A PostgreSQL cluster on this machine: initdb into a folder, listening on 127.0.0.1 only, started and
/// stopped with pg_ctl. PostgreSQL refuses to run as root, so when this process is root every server
/// program runs as the <c>postgres</c> OS user (through <c>runuser</c>) and the folder is chowned to it.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    /// <summary>The OS account server processes run as when the current user is root.</summary>
    public const string ServiceAccount = "postgres";

    private readonly IProcessRunner _processes;

    private LocalCluster(LocalClusterOptions options, string binDirectory, int majorVersion, int port, IProcessRunner processes)
    {
        Options = options;
        BinDirectory = binDirectory;
        MajorVersion = majorVersion;
        Port = port;
        _processes = processes;
    }

    /// <summary>The options the cluster was created with.</summary>
    public LocalClusterOptions Options { get; }

    /// <summary>Folder of the server programs used.</summary>
    public string BinDirectory { get; }

    /// <summary>The server's major version.</summary>
    public int MajorVersion { get; }

    /// <summary>Listening address.</summary>
    public string Host => "127.0.0.1";

    /// <summary>Listening port.</summary>
    public int Port { get; }

    /// <summary>The data directory.</summary>
    public string DataDirectory => Path.Combine(Options.RootDirectory, "data");

    /// <summary>The server log written by pg_ctl.</summary>
    public string LogFile => Path.Combine(Options.RootDirectory, "server.log");

    /// <summary>True when server programs must be run as <see cref="ServiceAccount"/>.</summary>
    public static bool RunsAsServiceAccount => Environment.IsPrivilegedProcess;

    /// <summary>Describes the cluster as a server the operations can use, with the given secret reference.</summary>
    public DbServerInfo ToServerInfo(string adminSecretRef) =>
        new(Options.Name, Host, Port, Options.SuperUser, adminSecretRef, MajorVersion);

    /// <summary>Creates a new cluster with initdb and starts it.</summary>
    public static async Task<LocalCluster> CreateAsync(
        LocalClusterOptions options, PgToolLocator tools, IProcessRunner processes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tools);
        var initdb = await tools.LocateAsync("initdb", requiredMajor: null, cancellationToken);
        var port = options.Port == 0 ? FreeLoopbackPort() : options.Port;
        var cluster = new LocalCluster(options, Path.GetDirectoryName(initdb.Path)!, initdb.MajorVersion, port, processes);
        await cluster.InitAsync(cancellationToken);
        await cluster.StartAsync(cancellationToken);
        return cluster;
    }

    /// <summary>
    /// A cluster whose data directory already exists under <see cref="LocalClusterOptions.RootDirectory"/> (created
    /// earlier, or copied from a base backup). Nothing is started.
    /// </summary>
    public static LocalCluster Existing(LocalClusterOptions options, string binDirectory, int majorVersion, int port, IProcessRunner processes)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LocalCluster(options, binDirectory, majorVersion, port, processes);
    }

    /// <summary>A free TCP port on 127.0.0.1 (free now; the caller binds it soon after).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the server and waits until it accepts connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await RunServerToolAsync(
            "pg_ctl", ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "300", "-o", $"-p {Port}", "start"], cancellationToken);
    }

    /// <summary>Stops the server (fast shutdown: sessions are disconnected, work is not lost).</summary>
    public Task StopAsync(CancellationToken cancellationToken) =>
        RunServerToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "-t", "120", "stop"], cancellationToken);

    /// <summary>Whether the server is running.</summary>
    public async Task<bool> IsRunningAsync(CancellationToken cancellationToken)
    {
        var result = await _processes.RunAsync(AsServiceAccount(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, "status"]), cancellationToken);
        return result.ExitCode == 0;
    }

    /// <summary>Stops the server if it runs and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Directory.Exists(DataDirectory))
        {
            await _processes.RunAsync(
                AsServiceAccount(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]),
                CancellationToken.None);
        }

        if (Directory.Exists(Options.RootDirectory))
        {
            Directory.Delete(Options.RootDirectory, recursive: true);
        }
    }

    /// <summary>Wraps a command so it runs as <see cref="ServiceAccount"/> when this process is root.</summary>
    public static ProcessSpec AsServiceAccount(string fileName, IReadOnlyList<string> arguments) =>
        RunsAsServiceAccount
            ? new ProcessSpec("runuser", ["-u", ServiceAccount, "--", fileName, .. arguments])
            : new ProcessSpec(fileName, arguments);

    /// <summary>Gives <paramref name="path"/> (recursively) to <see cref="ServiceAccount"/> when this process is root.</summary>
    public static async Task GiveToServiceAccountAsync(IProcessRunner processes, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(processes);
        if (!RunsAsServiceAccount)
        {
            return;
        }

        var result = await processes.RunAsync(new ProcessSpec("chown", ["-R", $"{ServiceAccount}:{ServiceAccount}", path]), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"chown of {path} to {ServiceAccount} failed: {result.StandardError.Trim()}");
        }
    }

    private async Task InitAsync(CancellationToken cancellationToken)
    {
        var root = Options.RootDirectory;
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var socketDirectory = Path.Combine(root, "sock");
        Directory.CreateDirectory(socketDirectory);
        var passwordFile = Path.Combine(root, "initdb.pw");
        await File.WriteAllTextAsync(passwordFile, Options.Password + "\n", cancellationToken);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await GiveToServiceAccountAsync(_processes, root, cancellationToken);
        try
        {
            await RunServerToolAsync(
                "initdb",
                ["-D", DataDirectory, "-U", Options.SuperUser, $"--pwfile={passwordFile}", "--auth=scram-sha-256",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
                cancellationToken);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["listen_addresses"] = "'127.0.0.1'",
            ["port"] = Port.ToString(CultureInfo.InvariantCulture),
            ["unix_socket_directories"] = $"'{socketDirectory}'",
            ["max_connections"] = "100",
            ["shared_buffers"] = "64MB",
            ["log_line_prefix"] = "'%m [%p] %q%u@%d '",
        };
        if (Options.Throwaway)
        {
            settings["fsync"] = "off";
            settings["synchronous_commit"] = "off";
            settings["full_page_writes"] = "off";
        }

        foreach (var (key, value) in Options.Settings)
        {
            settings[key] = value;
        }

        await AppendSettingsAsync(settings, cancellationToken);
    }

    /// <summary>Appends <c>key = value</c> lines to the cluster's <c>postgresql.conf</c> (later lines win).</summary>
    public async Task AppendSettingsAsync(IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var conf = new StringBuilder("\n# Written by RcmPitr\n");
        foreach (var (key, value) in settings)
        {
            conf.Append(CultureInfo.InvariantCulture, $"{key} = {value}\n");
        }

        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"), conf.ToString(), cancellationToken);
    }

    private async Task RunServerToolAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await _processes.RunAsync(AsServiceAccount(Path.Combine(BinDirectory, tool), arguments), cancellationToken);
        if (result.ExitCode != 0)
        {
            var log = File.Exists(LogFile) ? await File.ReadAllTextAsync(LogFile, cancellationToken) : string.Empty;
            throw new InvalidOperationException(
                $"{tool} for cluster '{Options.Name}' exited with {result.ExitCode}: {result.StandardError.Trim()} {result.StandardOutput.Trim()} {Tail(log)}".Trim());
        }
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : text[^2000..];
}
