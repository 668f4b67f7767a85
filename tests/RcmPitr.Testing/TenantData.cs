using System.Runtime.Versioning;
using Npgsql;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Sql;

namespace RcmPitr.Testing;

/// <summary>Creates tenant databases with the canary tables and known rows, and fingerprints their content.</summary>
[SupportedOSPlatform("linux")]
public static class TenantData
{
    /// <summary>Creates <paramref name="database"/> through <paramref name="maintenance"/> and fills it.</summary>
    public static async Task CreateAsync(NpgsqlConnection maintenance, Func<string, Task<NpgsqlConnection>> open, string database, int members, string origin)
    {
        ArgumentNullException.ThrowIfNull(maintenance);
        ArgumentNullException.ThrowIfNull(open);
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {PgQuote.Identifier(database)}", maintenance))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using var connection = await open(database);
        foreach (var (_, sql) in EmbeddedSchema.Scripts(EmbeddedSchema.Tenant))
        {
            await using var schema = new NpgsqlCommand(sql, connection);
            await schema.ExecuteNonQueryAsync();
        }

        await using var fill = new NpgsqlCommand(
            $"""
            INSERT INTO identity.organization (name, npi) VALUES ('Org {origin}', '1234567890'), ('Second org', NULL);
            INSERT INTO security.app_user (organization_id, email, display_name)
              SELECT 1, 'user' || g || '@{origin}.example', 'User ' || g FROM generate_series(1, 3) g;
            INSERT INTO members.member (organization_id, member_number, full_name, date_of_birth, plan)
              SELECT 1 + g % 2, 'M' || g, 'Member ' || g, date '1970-01-01' + g, jsonb_build_object('plan', 'gold', 'n', g)
              FROM generate_series(1, {members}) g;
            """,
            connection);
        await fill.ExecuteNonQueryAsync();
    }

    /// <summary>The canonical database and every database derived from it (<c>&lt;canonical&gt;_…</c>), sorted.</summary>
    public static async Task<IReadOnlyList<string>> DatabasesOfAsync(NpgsqlConnection maintenance, string canonical)
    {
        ArgumentNullException.ThrowIfNull(maintenance);
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname = $1 OR starts_with(datname, $1 || '_') ORDER BY 1", maintenance);
        command.Parameters.Add(new NpgsqlParameter { Value = canonical });
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>An md5 over the canary tables' rows in key order: equal fingerprints mean equal content.</summary>
    public static async Task<string> FingerprintAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT md5(
              coalesce((SELECT string_agg(o::text, '|' ORDER BY o.id) FROM identity.organization o), '') || '#' ||
              coalesce((SELECT string_agg(u::text, '|' ORDER BY u.id) FROM security.app_user u), '') || '#' ||
              coalesce((SELECT string_agg(m::text, '|' ORDER BY m.id) FROM members.member m), ''))
            """,
            connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
