using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace RcmPitr.Postgres.Connections;

/// <summary>
/// Reads and rewrites the database a tenant connection secret points at, keeping everything else (host, user,
/// password, options) as it was. Two shapes are understood: a JSON object with a <c>database</c> (or
/// <c>dbname</c>) property, and a keyword=value connection string. Errors never quote the secret.
/// </summary>
public static class ConnectionSecrets
{
    /// <summary>The database the secret points at.</summary>
    public static string DatabaseOf(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.TrimStart().StartsWith('{'))
        {
            JsonObject json;
            try
            {
                json = JsonNode.Parse(secret)?.AsObject() ?? throw new FormatException("The connection secret is not a JSON object.");
            }
            catch (JsonException)
            {
                throw new FormatException("The connection secret is not valid JSON.");
            }

            var database = json.FirstOrDefault(p => p.Key.Equals("database", StringComparison.OrdinalIgnoreCase) || p.Key.Equals("dbname", StringComparison.OrdinalIgnoreCase)).Value;
            return database?.GetValueKind() == JsonValueKind.String ? database.GetValue<string>()
                : throw new FormatException("The connection secret (JSON) has no 'database' or 'dbname' property.");
        }

        return Builder(secret).Database is { Length: > 0 } name ? name : throw new FormatException("The connection secret names no database.");
    }

    /// <summary>The secret with its database replaced by <paramref name="database"/>.</summary>
    public static string WithDatabase(string secret, string database)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.TrimStart().StartsWith('{'))
        {
            var json = JsonNode.Parse(secret)?.AsObject() ?? throw new FormatException("The connection secret is not a JSON object.");
            var key = json.Select(p => p.Key).FirstOrDefault(k => k.Equals("database", StringComparison.OrdinalIgnoreCase) || k.Equals("dbname", StringComparison.OrdinalIgnoreCase))
                      ?? throw new FormatException("The connection secret (JSON) has no 'database' or 'dbname' property to repoint.");
            json[key] = database;
            return json.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        }

        var builder = Builder(secret);
        builder.Database = database;
        return builder.ConnectionString;
    }

    /// <summary>
    /// The secret with its host and port replaced (a tenant re-pointed at a recovered server), keeping the database, user, password
    /// and options. JSON secrets get <c>host</c> and <c>port</c> (their existing spelling kept); keyword=value secrets get
    /// <c>Host</c> and <c>Port</c>.
    /// </summary>
    public static string WithServer(string secret, string host, int port)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        if (secret.TrimStart().StartsWith('{'))
        {
            JsonObject json;
            try
            {
                json = JsonNode.Parse(secret)?.AsObject() ?? throw new FormatException("The connection secret is not a JSON object.");
            }
            catch (JsonException)
            {
                throw new FormatException("The connection secret is not valid JSON.");
            }

            var hostKey = json.Select(p => p.Key).FirstOrDefault(k => k.Equals("host", StringComparison.OrdinalIgnoreCase) || k.Equals("hostname", StringComparison.OrdinalIgnoreCase)) ?? "host";
            var portKey = json.Select(p => p.Key).FirstOrDefault(k => k.Equals("port", StringComparison.OrdinalIgnoreCase)) ?? "port";
            var portWasText = json[portKey]?.GetValueKind() == JsonValueKind.String;
            json[hostKey] = host;
            json[portKey] = portWasText ? port.ToString(System.Globalization.CultureInfo.InvariantCulture) : port;
            return json.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        }

        var builder = Builder(secret);
        builder.Host = host;
        builder.Port = port;
        return builder.ConnectionString;
    }

    private static NpgsqlConnectionStringBuilder Builder(string secret)
    {
        // Parse errors from the builder would quote the secret; replace them with a message that does not.
        try
        {
            return new NpgsqlConnectionStringBuilder(secret);
        }
        catch (ArgumentException)
        {
            throw new FormatException("The connection secret is neither a JSON object nor a keyword=value connection string.");
        }
    }
}
