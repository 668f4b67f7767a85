namespace RcmPitr.Postgres.Tests.Fixtures;

/// <summary>
/// Puts rows holding a unique marker into a tenant database, guarded by a rule that holds in that database and fails
/// in any other: an IMMUTABLE-declared function whose result depends on <c>current_database()</c>. Copying the
/// database elsewhere (pg_restore or the streaming COPY) then fails on those rows, and PostgreSQL's report of the
/// failure quotes them.
/// </summary>
internal static class PhiTrap
{
    /// <summary>The table holding the rows.</summary>
    public const string Table = "patient";

    /// <summary>Adds the table and its rule to <paramref name="database"/> on the pitr server; returns the marker the rows hold.</summary>
    public static async Task<string> AddAsync(Scenario s, string database, PhiTrapKind kind)
    {
        var marker = "PHI" + Guid.NewGuid().ToString("N");
        var home = database.Replace("'", "''", StringComparison.Ordinal);
        var rule = kind switch
        {
            PhiTrapKind.UniqueIndex => $"""
                CREATE FUNCTION phi.mrn_key(v text) RETURNS text LANGUAGE sql IMMUTABLE
                  AS $$ SELECT CASE WHEN current_database() = '{home}' THEN v ELSE split_part(v, '-', 2) END $$;
                CREATE TABLE phi.{Table} (id int PRIMARY KEY, mrn text NOT NULL);
                """,
            PhiTrapKind.Check => $"""
                CREATE FUNCTION phi.mrn_ok(v text) RETURNS boolean LANGUAGE sql IMMUTABLE
                  AS $$ SELECT current_database() = '{home}' OR v IS NULL $$;
                CREATE TABLE phi.{Table} (id int PRIMARY KEY, mrn text NOT NULL CHECK (phi.mrn_ok(mrn)));
                """,
            PhiTrapKind.Raise => $"""
                CREATE FUNCTION phi.mrn_ok(v text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
                BEGIN
                  IF current_database() <> '{home}' THEN
                    RAISE EXCEPTION 'mrn % is not accepted here', v;
                  END IF;
                  RETURN true;
                END $$;
                CREATE TABLE phi.{Table} (id int PRIMARY KEY, mrn text NOT NULL CHECK (phi.mrn_ok(mrn)));
                """,
            PhiTrapKind.Cast => $"""
                CREATE FUNCTION phi.mrn_ok(v text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
                BEGIN
                  IF current_database() <> '{home}' THEN
                    RETURN v::integer > 0;
                  END IF;
                  RETURN true;
                END $$;
                CREATE TABLE phi.{Table} (id int PRIMARY KEY, mrn text NOT NULL CHECK (phi.mrn_ok(mrn)));
                """,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var index = kind == PhiTrapKind.UniqueIndex ? $"CREATE UNIQUE INDEX {Table}_mrn_key ON phi.{Table} (phi.mrn_key(mrn));" : string.Empty;
        await s.ExecAsync(
            s.Pitr,
            database,
            $"""
            CREATE SCHEMA phi;
            {rule}
            INSERT INTO phi.{Table} VALUES (1, 'MRN-{marker}-1'), (2, 'MRN-{marker}-2');
            {index}
            """);
        return marker;
    }

    /// <summary>Fails when <paramref name="marker"/> appears in any of <paramref name="texts"/>, saying where.</summary>
    public static void AssertAbsent(string marker, params (string Where, string? Text)[] texts)
    {
        foreach (var (where, text) in texts)
        {
            Assert.False(text?.Contains(marker, StringComparison.Ordinal) == true, $"row data reached {where}: {text}");
        }
    }
}
