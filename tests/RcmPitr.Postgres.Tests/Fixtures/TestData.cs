namespace RcmPitr.Postgres.Tests.Fixtures;

internal static class TestData
{
    public const string Stamp = "20260422143000";

    /// <summary>Adds a filler table big enough that pg_dump / pg_restore run long enough to be killed midway.</summary>
    public static Task AddFillerAsync(Scenario s, Workflow.Contracts.DbServerInfo server, string database, int rows = 600_000) =>
        s.ExecAsync(
            server,
            database,
            $"""
            CREATE SCHEMA IF NOT EXISTS claims;
            CREATE TABLE claims.claim_line (id bigint PRIMARY KEY, member_id bigint NOT NULL, amount numeric(12,2) NOT NULL, note text);
            INSERT INTO claims.claim_line SELECT g, g % 1000, (g % 997) * 1.25, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, {rows}) g;
            CREATE INDEX ON claims.claim_line (member_id);
            """);
}
