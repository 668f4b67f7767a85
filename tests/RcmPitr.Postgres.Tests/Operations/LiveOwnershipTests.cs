using Npgsql;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Sql;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Tests.Operations;

/// <summary>
/// The copy is restored without owners and privileges (the runbook's <c>--no-owner --no-privileges</c>); the tenant's
/// application role must still sign in and work after the swap ("Customer can sign in" in the runbook's validation).
/// </summary>
public sealed class LiveOwnershipTests(ClusterFixture fx)
{
    private const string AppPassword = "app-role-secret";

    [Theory]
    [InlineData(TransferMode.Streaming)]
    [InlineData(TransferMode.Parallel)]
    [InlineData(TransferMode.Runbook)]
    public async Task RestoreAndSwap_AppRoleOwningAndGrantedObjects_StillConnectsReadsAndWrites(TransferMode mode)
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var app = await s.AddLoginRoleAsync("app", AppPassword);
        var stranger = await s.AddLoginRoleAsync("stranger", AppPassword);
        foreach (var server in new[] { s.Live, s.Pitr })
        {
            await GiveTheTenantToAsync(s, server, tenant.DatabaseName, app);
        }

        var ownership = mode == TransferMode.Runbook
            ? (await Restores.DumpAndLoadAsync(s, slug)).Ownership
            : (await s.Transfer.MoveAsync(new MoveTenantInput(s.RunId, s.Pitr, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.Restore, mode), CancellationToken.None)).Ownership;

        Assert.NotNull(ownership);
        foreach (var kind in new[] { "schema", "table", "view", "function", "type" })
        {
            Assert.Equal(1, ownership.Owners.GetValueOrDefault(kind));
        }

        Assert.True(ownership.Privileges.GetValueOrDefault("database") >= 2, "database grants: revoke from PUBLIC, grant CONNECT to the application");
        Assert.Equal(1, ownership.Privileges.GetValueOrDefault("default privileges"));
        Assert.Equal((0, 0), (ownership.MissingInCopy, ownership.OnlyInCopy));
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);

        await using (var session = await OpenAsAsync(s, tenant.DatabaseName, app))
        {
            Assert.Equal(9L, await ScalarAsync<long>(session, "SELECT count(*) FROM members.member"));
            Assert.Equal(9L, await ScalarAsync<long>(session, "SELECT count(*) FROM members.member_names"));
            Assert.Equal(9L, await ScalarAsync<long>(session, "SELECT members.member_total()"));
            await ScalarAsync<int>(session, "INSERT INTO members.member (organization_id, member_number, full_name, date_of_birth) VALUES (1, 'M-new', 'New', date '1990-01-01') RETURNING 1");
            await ScalarAsync<int>(session, "INSERT INTO security.app_user (organization_id, email, display_name) VALUES (1, 'new@example', 'New') RETURNING 1");
            Assert.Equal(2L, await ScalarAsync<long>(session, "SELECT count(*) FROM identity.organization"));
            Assert.Equal("gold", await ScalarAsync<string>(session, "SELECT 'gold'::members.plan_kind::text"));
            await ScalarAsync<int>(session, "CREATE TABLE members.app_made (x int); SELECT 1");
        }

        // Default privileges came along: a table the admin creates later is readable by the application.
        await s.ExecAsync(s.Live, tenant.DatabaseName, "CREATE TABLE security.added_later (x int)");
        await using (var session = await OpenAsAsync(s, tenant.DatabaseName, app))
        {
            Assert.Equal(0L, await ScalarAsync<long>(session, "SELECT count(*) FROM security.added_later"));
        }

        // Live let only the application connect: so does the restored database.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => OpenAsAsync(s, tenant.DatabaseName, stranger));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    [Fact]
    public async Task CompareAsync_AfterTheMoveNothingDiffers_ThenAnOwnerAndAGrantChangedInTheCopyAreNamed()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 3, pitrMembers: 4);
        var app = await s.AddLoginRoleAsync("app", AppPassword);
        foreach (var server in new[] { s.Live, s.Pitr })
        {
            await GiveTheTenantToAsync(s, server, tenant.DatabaseName, app);
        }

        var moved = await s.Transfer.MoveAsync(new MoveTenantInput(s.RunId, s.Pitr, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.Restore, TransferMode.Streaming), CancellationToken.None);

        var same = await LiveOwnership.CompareAsync(s.Connector, s.Live, tenant.DatabaseName, moved.DatabaseName, CancellationToken.None);
        Assert.Empty(same.Differences);
        Assert.True(same.ObjectsCompared >= 10, $"{same.ObjectsCompared} objects compared");
        Assert.Equal((0, 0), (same.OnlyInLive, same.OnlyInCopy));

        await s.ExecAsync(s.Live, moved.DatabaseName, $"ALTER TABLE members.member OWNER TO {PgQuote.Identifier(s.Live.AdminUser)}; REVOKE SELECT ON identity.organization FROM {PgQuote.Identifier(app)}");
        var changed = await LiveOwnership.CompareAsync(s.Connector, s.Live, tenant.DatabaseName, moved.DatabaseName, CancellationToken.None);

        var owner = Assert.Single(changed.Differences, d => d.Object == "\"members\".\"member\"");
        Assert.Equal(("table", app, s.Live.AdminUser), (owner.Kind, owner.LiveOwner, owner.CopyOwner));
        var grant = Assert.Single(changed.Differences, d => d.Object == "\"identity\".\"organization\"");
        Assert.Null(grant.LiveOwner);
        Assert.Contains($"{app}:SELECT", grant.LiveAcl, StringComparison.Ordinal);
        Assert.DoesNotContain($"{app}:SELECT", grant.CopyAcl, StringComparison.Ordinal);
        // The table's identity sequence followed its new owner: its privileges (the owner's) differ too.
        var sequence = Assert.Single(changed.Differences, d => d.Kind == "sequence");
        Assert.Equal("\"members\".\"member_id_seq\"", sequence.Object);
        Assert.Equal(3, changed.Differences.Count);
    }

    [Fact]
    public async Task VerifyCutoverAsync_SmokeProbeAsTheApplicationRole_SignsInAndRunsTheQuery()
    {
        await using var s = await Scenario.StartAsync(fx);
        var (tenant, app, _) = await RestoreAndSwapAsync(s);
        s.SmokeProbe.Role = app;
        s.SmokeProbe.PasswordSecret = "smoke-" + s.Id;
        s.SmokeProbe.Query = "SELECT full_name FROM members.member";
        await s.Fixture.Secrets.SetSecretAsync(s.SmokeProbe.PasswordSecret, AppPassword, CancellationToken.None);

        var result = await s.Parity.VerifyCutoverAsync(VerifyInput(s, tenant.DatabaseName), CancellationToken.None);

        Assert.Equal(app, result.SignedInAs);
    }

    [Theory]
    [InlineData("stranger", "SELECT 1", "connecting", "42501")]
    [InlineData("app", "SELECT full_name::int FROM members.member", "running the configured query", "22P02")]
    [InlineData("app", "DELETE FROM members.member", "running the configured query", "25006")]
    public async Task VerifyCutoverAsync_SmokeProbeFails_FailsTheStepNamingTheRoleWithoutRowData(string who, string query, string step, string sqlState)
    {
        await using var s = await Scenario.StartAsync(fx);
        var (tenant, app, stranger) = await RestoreAndSwapAsync(s);
        s.SmokeProbe.Role = who == "app" ? app : stranger;
        s.SmokeProbe.PasswordSecret = "smoke-" + s.Id;
        s.SmokeProbe.Query = query;
        await s.Fixture.Secrets.SetSecretAsync(s.SmokeProbe.PasswordSecret, AppPassword, CancellationToken.None);

        var error = await Assert.ThrowsAsync<RcmPitr.Workflow.Errors.DatabaseStateConflictException>(
            () => s.Parity.VerifyCutoverAsync(VerifyInput(s, tenant.DatabaseName), CancellationToken.None));

        Assert.Contains($"smoke probe failed {step} as {s.SmokeProbe.Role} on {tenant.DatabaseName}", error.Message, StringComparison.Ordinal);
        Assert.Contains(sqlState, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Member", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AppPassword, error.Message, StringComparison.Ordinal);
        Assert.Equal(9L, await s.ScalarAsync<long>(s.Live, tenant.DatabaseName, "SELECT count(*) FROM members.member"));
    }

    private static VerifyCutoverInput VerifyInput(Scenario s, string database) =>
        new(s.Live, database, new Dictionary<string, long> { ["members.member"] = 9 });

    private static async Task<(TenantInfo Tenant, string App, string Stranger)> RestoreAndSwapAsync(Scenario s)
    {
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 5, pitrMembers: 9);
        var app = await s.AddLoginRoleAsync("app", AppPassword);
        var stranger = await s.AddLoginRoleAsync("stranger", AppPassword);
        foreach (var server in new[] { s.Live, s.Pitr })
        {
            await GiveTheTenantToAsync(s, server, tenant.DatabaseName, app);
        }

        await s.Transfer.MoveAsync(new MoveTenantInput(s.RunId, s.Pitr, s.Live, slug, TestData.Stamp, DerivedDatabaseKind.Restore, TransferMode.Streaming), CancellationToken.None);
        await s.Swap.CutOverAsync(new SwapCutoverInput(s.RunId, s.Live, slug, TestData.Stamp), CancellationToken.None);
        return (tenant, app, stranger);
    }

    /// <summary>What a tenant's provisioning typically leaves: the application owns a schema and its objects, holds grants
    /// on the others and default privileges for new tables, and only it may connect.</summary>
    [Fact]
    public async Task ApplyAsync_AdminThatMayNotActAsTheOwnerRole_IsARefusalNamingTheGrant()
    {
        await using var s = await Scenario.StartAsync(fx);
        var slug = s.NewSlug();
        var tenant = await s.AddTenantAsync(slug, liveMembers: 2, pitrMembers: 2);
        var app = await s.AddLoginRoleAsync("app", AppPassword);
        await GiveTheTenantToAsync(s, s.Live, tenant.DatabaseName, app);
        // An admin as on Azure: no superuser, and not a member of the application role.
        var admin = await s.AddLoginRoleAsync("admin", AppPassword);
        await s.ExecAsync(s.Live, "postgres", $"GRANT CONNECT ON DATABASE {PgQuote.Identifier(tenant.DatabaseName)} TO {PgQuote.Identifier(admin)}");
        var secret = "limited-admin-" + slug;
        await s.Fixture.Secrets.SetSecretAsync(secret, AppPassword, CancellationToken.None);
        var copy = "rcmtmp_copy_" + slug.Replace('-', '_');
        await s.ExecAsync(s.Live, "postgres", $"CREATE DATABASE {PgQuote.Identifier(copy)} OWNER {PgQuote.Identifier(admin)}");
        await s.ExecAsync(s.Live, copy, $"SET ROLE {PgQuote.Identifier(admin)}; CREATE SCHEMA members; CREATE TABLE members.member (id int)");
        var limited = s.Live with { AdminUser = admin, AdminSecretRef = secret };

        var error = await Assert.ThrowsAsync<Workflow.Errors.DatabaseStateConflictException>(() =>
            LiveOwnership.ApplyAsync(s.Connector, limited, tenant.DatabaseName, copy, CancellationToken.None));

        Assert.Contains($"GRANT <role> TO {admin}", error.Message, StringComparison.Ordinal);
        Assert.Contains("42501", error.Message, StringComparison.Ordinal);
        await s.ExecAsync(s.Live, "postgres", $"DROP DATABASE {PgQuote.Identifier(copy)}");
    }

    private static async Task GiveTheTenantToAsync(Scenario s, DbServerInfo server, string database, string app)
    {
        var role = PgQuote.Identifier(app);
        await s.ExecAsync(server, "postgres", $"REVOKE CONNECT, TEMPORARY ON DATABASE {PgQuote.Identifier(database)} FROM PUBLIC; GRANT CONNECT ON DATABASE {PgQuote.Identifier(database)} TO {role}");
        await s.ExecAsync(
            server,
            database,
            $"""
            CREATE TYPE members.plan_kind AS ENUM ('gold', 'silver');
            CREATE VIEW members.member_names AS SELECT id, full_name FROM members.member;
            CREATE FUNCTION members.member_total() RETURNS bigint LANGUAGE sql STABLE AS $f$ SELECT count(*) FROM members.member $f$;
            REVOKE EXECUTE ON FUNCTION members.member_total() FROM PUBLIC;
            ALTER SCHEMA members OWNER TO {role};
            ALTER TABLE members.member OWNER TO {role};
            ALTER VIEW members.member_names OWNER TO {role};
            ALTER FUNCTION members.member_total() OWNER TO {role};
            ALTER TYPE members.plan_kind OWNER TO {role};
            GRANT USAGE ON SCHEMA identity, security TO {role};
            GRANT SELECT ON ALL TABLES IN SCHEMA identity TO {role};
            GRANT SELECT, INSERT, UPDATE ON security.app_user TO {role};
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA security TO {role};
            ALTER DEFAULT PRIVILEGES IN SCHEMA security GRANT SELECT ON TABLES TO {role};
            """);
    }

    private static async Task<NpgsqlConnection> OpenAsAsync(Scenario s, string database, string role)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = s.Fixture.Live.Host,
            Port = s.Fixture.Live.Port,
            Username = role,
            Password = AppPassword,
            Database = database,
            Pooling = false,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
