namespace RcmPitr.Postgres.Connections;

/// <summary>Where a database is, with its password as a secret reference (never the password itself).</summary>
public sealed class DatabaseEndpoint
{
    /// <summary>Host.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Port.</summary>
    public int Port { get; set; } = 5432;

    /// <summary>Database name.</summary>
    public string Database { get; set; } = "postgres";

    /// <summary>Login.</summary>
    public string Username { get; set; } = "postgres";

    /// <summary>Secret reference of the password.</summary>
    public string PasswordSecretRef { get; set; } = string.Empty;
}
