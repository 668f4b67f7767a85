using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace RcmPitr.Postgres.Connections;

/// <summary>
/// Rewrites the database a tenant connection secret points at, keeping everything else (host, user,
/// password, options) as it was. Two shapes are understood: a JSON object with a <c>database</c> (or
/// <c>dbname</c>) property, and a keyword=value connection string.
/// </summary>
public static class ConnectionSecrets
{
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

        // Parse errors from the builder would quote the secret; replace them with a message that does not.
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(secret);
        }
        catch (ArgumentException)
        {
            throw new FormatException("The connection secret is neither a JSON object nor a keyword=value connection string.");
        }

        builder.Database = database;
        return builder.ConnectionString;
    }
}
