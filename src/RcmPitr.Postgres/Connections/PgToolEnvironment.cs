using System.Globalization;
using System.Text;
using Npgsql;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Postgres.Connections;

/// <summary>
/// The environment for a pg tool run: connection settings as <c>PG*</c> variables and the password in a
/// 0600 pgpass file that is deleted on dispose. Nothing secret ever goes into argv.
/// </summary>
public sealed class PgToolEnvironment : IDisposable
{
    private readonly string _passFile;

    private PgToolEnvironment(string passFile, IReadOnlyDictionary<string, string> variables)
    {
        _passFile = passFile;
        Variables = variables;
    }

    /// <summary>Variables to pass to the process.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; }

    /// <summary>Writes the pgpass file under <paramref name="privateDirectory"/> (which should be 0700) and builds the variables.</summary>
    public static async Task<PgToolEnvironment> CreateAsync(
        PgConnector connector, DbServerInfo server, string privateDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(server);
        var password = await connector.GetPasswordAsync(server, cancellationToken);
        Directory.CreateDirectory(privateDirectory);
        var passFile = Path.Combine(privateDirectory, $".pgpass-{Guid.CreateVersion7():N}");
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

        var options = connector.Options;
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PGPASSFILE"] = passFile,
            // An inherited PGPASSWORD would win over the file; blank it so the file is the only source.
            ["PGPASSWORD"] = string.Empty,
            ["PGSSLMODE"] = SslModeText(options.SslMode),
            ["PGCONNECT_TIMEOUT"] = options.ConnectTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
            ["PGAPPNAME"] = options.ApplicationName,
            ["PGHOST"] = server.Fqdn,
            ["PGPORT"] = server.Port.ToString(CultureInfo.InvariantCulture),
            ["PGUSER"] = server.AdminUser,
        };
        return new PgToolEnvironment(passFile, variables);
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
