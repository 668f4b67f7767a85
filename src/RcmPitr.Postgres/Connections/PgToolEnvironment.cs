using System.Globalization;
using System.Text;
using Npgsql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Connections;

/// <summary>
/// The environment for a pg tool run: connection settings as <c>PG*</c> variables and the password in a 0600 pgpass
/// file, created new in a private local folder (<see cref="PgConnectionOptions.ResolvePasswordFileDirectory"/>, never
/// scratch; a folder on a network or FUSE mount is refused) and deleted on dispose. Files a crashed process left there
/// are swept first. Nothing secret goes into argv.
/// </summary>
public sealed class PgToolEnvironment : IDisposable
{
    private const string Prefix = ".pgpass-";
    private readonly string _passFile;

    private PgToolEnvironment(string passFile, IReadOnlyDictionary<string, string> variables)
    {
        _passFile = passFile;
        Variables = variables;
    }

    /// <summary>Variables to pass to the process.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; }

    /// <summary>Writes the pgpass file for <paramref name="server"/> and builds the variables.</summary>
    public static async Task<PgToolEnvironment> CreateAsync(PgConnector connector, DbServerInfo server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(server);
        var options = connector.Options;
        var directory = options.ResolvePasswordFileDirectory();
        PrivateDirectory.Ensure(directory, "the password file folder");
        MountTable.RefuseNetworkFolder(directory, "the password file folder");
        SweepStale(directory);
        var password = await connector.GetPasswordAsync(server, cancellationToken);
        // The process id in the name tells a file in use from one a crashed process left behind.
        var passFile = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Environment.ProcessId}-{Guid.CreateVersion7():N}"));
        var line = string.Join(':', Escape(server.Fqdn), server.Port.ToString(CultureInfo.InvariantCulture), "*", Escape(server.AdminUser), Escape(password));
        var fileOptions = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        await using (var stream = new FileStream(passFile, fileOptions))
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
        }

        // libpq ignores a password file with group or world bits; a file system that did not keep 0600 is refused here
        // with a clear error instead of an authentication failure later.
        if (UnixFileStatus.Of(passFile) is not { Mode: var mode } || (mode & 0b000_111_111) != 0)
        {
            File.Delete(passFile);
            throw new UnsafeDirectoryException(directory, $"the password file folder {directory} did not keep mode 0600 on a new file; choose a folder on local storage");
        }

        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PGPASSFILE"] = passFile,
            // An inherited PGPASSWORD would win over the file; blank it so the file is the only source.
            ["PGPASSWORD"] = string.Empty,
            ["PGSSLMODE"] = SslModeText(options.SslModeFor(server.Fqdn)),
            ["PGCONNECT_TIMEOUT"] = options.ConnectTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
            ["PGAPPNAME"] = options.ApplicationName,
            ["PGHOST"] = server.Fqdn,
            ["PGPORT"] = server.Port.ToString(CultureInfo.InvariantCulture),
            ["PGUSER"] = server.AdminUser,
        };
        return new PgToolEnvironment(passFile, variables);
    }

    /// <summary>
    /// Deletes password files in <paramref name="directory"/> whose process no longer runs (a worker that crashed
    /// before its dispose); returns how many. Files of running processes are left alone.
    /// </summary>
    public static int SweepStale(string directory)
    {
        var swept = 0;
        foreach (var file in Directory.EnumerateFiles(directory, Prefix + "*"))
        {
            var rest = Path.GetFileName(file)[Prefix.Length..];
            var dash = rest.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                File.Delete(file);
                swept++;
            }
        }

        return swept;
    }

    /// <inheritdoc />
    public void Dispose() => File.Delete(_passFile);

    // pgpass fields escape ':' and '\' with a backslash.
    private static string Escape(string value) => value.Replace(@"\", @"\\", StringComparison.Ordinal).Replace(":", @"\:", StringComparison.Ordinal);

    private static string SslModeText(SslMode mode) => mode switch
    {
        SslMode.Disable => "disable",
        SslMode.Allow => "allow",
        SslMode.Prefer => "prefer",
        SslMode.Require => "require",
        SslMode.VerifyCA => "verify-ca",
        SslMode.VerifyFull => "verify-full",
        _ => "prefer",
    };
}
