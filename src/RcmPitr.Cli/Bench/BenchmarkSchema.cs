using System.Globalization;

namespace RcmPitr.Cli.Bench;

/// <summary>
/// The benchmark's tenant database: several schemas, the canary tables, a wide table with jsonb and text, a
/// large narrow table, indexes, a foreign key, a sequence, an identity and a generated column, an extension
/// and a view. <see cref="Sql"/> fills it to roughly the requested size.
/// </summary>
public static class BenchmarkSchema
{
    /// <summary>The SQL that creates and fills a database of about <paramref name="sizeMb"/> MB.</summary>
    public static string Sql(int sizeMb)
    {
        // Calibrated on PostgreSQL 15 by pg_database_size, indexes included: 1 024 MB asked gave 693 MB at
        // 1 030 wide and 2 400 narrow rows per MB, so these are scaled by 1024 / 693.
        var wide = Math.Max(1_000, sizeMb * 1_520);
        var narrow = Math.Max(5_000, sizeMb * 3_550);
        var members = Math.Max(500, wide / 10);
        return string.Create(CultureInfo.InvariantCulture, $"""
            CREATE EXTENSION IF NOT EXISTS pgcrypto;
            CREATE SCHEMA identity; CREATE SCHEMA security; CREATE SCHEMA members; CREATE SCHEMA claims;
            CREATE TABLE identity.organization (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, npi text);
            CREATE TABLE security.app_user (id bigserial PRIMARY KEY, organization_id bigint NOT NULL REFERENCES identity.organization (id), email text NOT NULL UNIQUE, password_hash text NOT NULL);
            CREATE TABLE members.member (id bigserial PRIMARY KEY, organization_id bigint NOT NULL REFERENCES identity.organization (id), member_number text NOT NULL UNIQUE,
              full_name text NOT NULL, date_of_birth date, plan jsonb NOT NULL, name_upper text GENERATED ALWAYS AS (upper(full_name)) STORED);
            CREATE TABLE claims.claim (id bigserial PRIMARY KEY, member_id bigint NOT NULL REFERENCES members.member (id), submitted_at timestamptz NOT NULL,
              payload jsonb NOT NULL, notes text NOT NULL, amount numeric(12, 2) NOT NULL);
            CREATE TABLE claims.claim_event (claim_id bigint NOT NULL, seq int NOT NULL, code smallint NOT NULL, at timestamptz NOT NULL, PRIMARY KEY (claim_id, seq));
            CREATE SEQUENCE claims.batch_number START 1000;
            INSERT INTO identity.organization (name, npi) SELECT 'Org ' || g, lpad(g::text, 10, '0') FROM generate_series(1, 50) g;
            INSERT INTO security.app_user (organization_id, email, password_hash) SELECT 1 + g % 50, 'user' || g || '@example.org', crypt('pw' || g, gen_salt('md5')) FROM generate_series(1, 500) g;
            INSERT INTO members.member (organization_id, member_number, full_name, date_of_birth, plan)
              SELECT 1 + g % 50, 'M' || lpad(g::text, 9, '0'), 'Member ' || md5(g::text), date '1940-01-01' + g % 25000,
                     jsonb_build_object('plan', (ARRAY['bronze','silver','gold'])[1 + g % 3], 'copay', g % 50, 'tags', jsonb_build_array('a' || g % 7, 'b' || g % 11))
              FROM generate_series(1, {members}) g;
            INSERT INTO claims.claim (member_id, submitted_at, payload, notes, amount)
              SELECT 1 + g % {members}, timestamptz '2025-01-01' + (g % 500000) * interval '1 minute',
                     jsonb_build_object('cpt', (ARRAY['99213','99214','80053'])[1 + g % 3], 'lines', jsonb_build_array(jsonb_build_object('units', g % 5, 'mod', md5(g::text)))),
                     repeat(md5((g * 7)::text), 4), round((g % 9000)::numeric / 7, 2)
              FROM generate_series(1, {wide}) g;
            INSERT INTO claims.claim_event (claim_id, seq, code, at)
              SELECT 1 + g / 3, g % 3, (g % 30)::smallint, timestamptz '2025-01-01' + g * interval '1 second' FROM generate_series(0, {narrow - 1}) g;
            CREATE INDEX claim_member ON claims.claim (member_id);
            CREATE INDEX claim_submitted ON claims.claim (submitted_at);
            CREATE INDEX claim_payload ON claims.claim USING gin (payload);
            CREATE INDEX member_plan ON members.member ((plan ->> 'plan'));
            CREATE VIEW claims.member_totals AS SELECT m.member_number, count(c.id) AS claims, sum(c.amount) AS total FROM members.member m LEFT JOIN claims.claim c ON c.member_id = m.id GROUP BY m.member_number;
            SELECT setval('claims.batch_number', 4242);
            ANALYZE;
            """);
    }
}
