using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Postgres.Sql;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Tests.Provisioning;

/// <summary>
/// Restored servers as owned, shared resources, over the real LocalWal provisioner and a real master database: every
/// scenario of review H6 (two tenants restored to one second, one run's clean-up under another's transfer, the quarterly
/// dry run) and the crashes in between.
/// </summary>
public sealed class RestoredServersTests(LocalWalFixture fx) : IClassFixture<LocalWalFixture>
{
    [Fact]
    public async Task Acquire_TwoRunsAtOnceForOneSourceAndSecond_CreateOneServerBothHoldIt()
    {
        fx.RequireEnvironment();
        var provisioner = new FaultyProvisioner(fx.Environment.Provisioner);
        var servers = Servers(provisioner);
        var t = await fx.NewRestoreSecondAsync();

        // The quarterly dry run: every tenant of one server restored to the same T, at the same moment.
        var results = await Task.WhenAll(
            Task.Run(() => servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None)),
            Task.Run(() => servers.AcquireAsync(new AcquireServerInput("run-b", fx.Live, t), CancellationToken.None)));
        var ready = await WaitReadyAsync(results[0].ServerName);

        Assert.Equal(results[0].ServerName, results[1].ServerName);
        Assert.Single(results, r => r.Created);
        Assert.Equal(1, provisioner.Created);
        Assert.Equal(["run-a", "run-b"], results.Single(r => !r.Created).Holders.Order());
        Assert.Equal(["run-a", "run-b"], await HoldersAsync(results[0].ServerName));
        Assert.Single(fx.Environment.Provisioner.List(), s => s.Name == results[0].ServerName);
        Assert.Equal(ServerState.Ready, ready.State);
    }

    [Fact]
    public async Task Release_FirstOfTwoHolders_LeavesTheServerToTheSecondAndTheLastDeletesIt()
    {
        fx.RequireEnvironment();
        var servers = Servers(fx.Environment.Provisioner);
        var t = await fx.NewRestoreSecondAsync();
        var a = await servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None);
        await servers.AcquireAsync(new AcquireServerInput("run-b", fx.Live, t), CancellationToken.None);
        var ready = await WaitReadyAsync(a.ServerName);

        // Tenant A's run finishes while tenant B's still copies from the server.
        var first = await servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, a.ServerName), CancellationToken.None);
        await using (var stillThere = await fx.Environment.Connector.OpenAsync(ready.Server!, "tenant_acme", CancellationToken.None))
        await using (var read = new NpgsqlCommand("SELECT count(*) FROM members.member", stillThere))
        {
            Assert.True((long)(await read.ExecuteScalarAsync(TestContext.Current.CancellationToken))! > 0);
        }

        var last = await servers.ReleaseAsync(new ReleaseServerInput("run-b", fx.Live, a.ServerName), CancellationToken.None);
        var again = await servers.ReleaseAsync(new ReleaseServerInput("run-b", fx.Live, a.ServerName), CancellationToken.None);

        Assert.Equal((a.ServerName, true, false), (first.ServerName, first.Held, first.Deleted));
        Assert.Equal(["run-b"], first.RemainingHolders);
        Assert.True(last.Held);
        Assert.True(last.Deleted);
        Assert.Empty(last.RemainingHolders);
        Assert.False(again.Held);
        Assert.False(again.Deleted);
        Assert.Equal(ServerState.NotFound, (await StateAsync(a.ServerName)).State);
        Assert.Null(await RowStateAsync(a.ServerName));
    }

    [Fact]
    public async Task Release_RunHoldingNothing_ReleasesNothingAndDeletesNothing()
    {
        fx.RequireEnvironment();
        var servers = Servers(fx.Environment.Provisioner);
        var t = await fx.NewRestoreSecondAsync();
        var a = await servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None);

        // Before, any run's compensation deleted the server by name, whoever used it.
        var stranger = await servers.ReleaseAsync(new ReleaseServerInput("run-c", fx.Live, a.ServerName), CancellationToken.None);
        var unknown = await servers.ReleaseAsync(
            new ReleaseServerInput("run-c", fx.Live, ServerNames.Pitr(fx.Live.Name, RestoreStamp.From(t.AddYears(-1)))), CancellationToken.None);

        Assert.False(stranger.Held);
        Assert.False(stranger.Deleted);
        Assert.Equal(["run-a"], stranger.RemainingHolders);
        Assert.Equal((false, false), (unknown.Held, unknown.Deleted));
        Assert.Empty(unknown.RemainingHolders);
        Assert.NotEqual(ServerState.NotFound, (await StateAsync(a.ServerName)).State);
        Assert.Equal("active", await RowStateAsync(a.ServerName));
        await servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, a.ServerName), CancellationToken.None);
    }

    [Fact]
    public async Task Acquire_Retried_FindsItsHoldAndCreatesNothingMore()
    {
        fx.RequireEnvironment();
        var provisioner = new FaultyProvisioner(fx.Environment.Provisioner);
        var servers = Servers(provisioner);
        var t = await fx.NewRestoreSecondAsync();

        var first = await servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None);
        var retry = await servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None);

        Assert.True(first.Created);
        Assert.True(retry.Created); // the retry of the acquire that created it says so too
        Assert.Equal(["run-a"], retry.Holders);
        Assert.Equal(1, provisioner.Created);
        await servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, first.ServerName), CancellationToken.None);
    }

    [Fact]
    public async Task Acquire_WhileTheLastReleaseDeletes_FailsRetryablyThenARetryCreatesItAnew()
    {
        fx.RequireEnvironment();
        var provisioner = new FaultyProvisioner(fx.Environment.Provisioner);
        var servers = Servers(provisioner);
        var t = await fx.NewRestoreSecondAsync();
        var a = await servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None);
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        provisioner.HoldDelete = hold;

        var release = Task.Run(() => servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, a.ServerName), CancellationToken.None));
        await provisioner.DeleteEntered.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var during = await Assert.ThrowsAsync<ServerBeingDeletedException>(
            () => servers.AcquireAsync(new AcquireServerInput("run-b", fx.Live, t), CancellationToken.None));
        hold.SetResult();
        var released = await release;
        var retried = await servers.AcquireAsync(new AcquireServerInput("run-b", fx.Live, t), CancellationToken.None);
        await WaitReadyAsync(a.ServerName);

        Assert.IsNotAssignableFrom<RcmPitrException>(during); // retryable, unlike RcmPitr's refusals
        Assert.Contains("run-a", during.Message, StringComparison.Ordinal);
        Assert.True(released.Deleted);
        Assert.True(retried.Created);
        Assert.Equal(["run-b"], retried.Holders);
        Assert.Equal(2, provisioner.Created);
        await servers.ReleaseAsync(new ReleaseServerInput("run-b", fx.Live, a.ServerName), CancellationToken.None);
    }

    [Theory]
    [InlineData(FaultyProvisioner.Crash.BeforeDelete)]
    [InlineData(FaultyProvisioner.Crash.AfterDelete)]
    public async Task Release_CrashBetweenLastHoldAndDeletion_ConvergesOnRetry(FaultyProvisioner.Crash crash)
    {
        fx.RequireEnvironment();
        var provisioner = new FaultyProvisioner(fx.Environment.Provisioner);
        var servers = Servers(provisioner);
        var t = await fx.NewRestoreSecondAsync();
        var a = await servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None);
        provisioner.NextDelete = crash;

        await Assert.ThrowsAsync<SimulatedWorkerDeathException>(
            () => servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, a.ServerName), CancellationToken.None));
        var rowAfterCrash = await RowStateAsync(a.ServerName);
        var serverAfterCrash = (await StateAsync(a.ServerName)).State;
        // Meanwhile another run must not attach to a server whose last holder let it go.
        var attach = crash == FaultyProvisioner.Crash.BeforeDelete
            ? await Assert.ThrowsAsync<ServerBeingDeletedException>(() => servers.AcquireAsync(new AcquireServerInput("run-b", fx.Live, t), CancellationToken.None))
            : null;
        var retried = await servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, a.ServerName), CancellationToken.None);

        // The row says 'deleting' for as long as the server may exist: never a server without its row.
        Assert.Equal("deleting", rowAfterCrash);
        Assert.Equal(crash == FaultyProvisioner.Crash.BeforeDelete, serverAfterCrash != ServerState.NotFound);
        Assert.True(attach is not null || crash == FaultyProvisioner.Crash.AfterDelete);
        Assert.Equal((true, true), (retried.Held, retried.Deleted));
        Assert.Empty(retried.RemainingHolders);
        Assert.Null(await RowStateAsync(a.ServerName));
        Assert.Equal(ServerState.NotFound, (await StateAsync(a.ServerName)).State);
    }

    [Fact]
    public async Task Release_RowLeftDeletingAfterTheServerWentAway_NextAcquireCreatesItAnew()
    {
        fx.RequireEnvironment();
        var provisioner = new FaultyProvisioner(fx.Environment.Provisioner);
        var servers = Servers(provisioner);
        var t = await fx.NewRestoreSecondAsync();
        var a = await servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None);
        provisioner.NextDelete = FaultyProvisioner.Crash.AfterDelete;
        await Assert.ThrowsAsync<SimulatedWorkerDeathException>(
            () => servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, a.ServerName), CancellationToken.None));

        // run-a never comes back (its retries ran out): the next run converges the row itself.
        var b = await servers.AcquireAsync(new AcquireServerInput("run-b", fx.Live, t), CancellationToken.None);

        Assert.True(b.Created);
        Assert.Equal(["run-b"], b.Holders);
        Assert.Equal("active", await RowStateAsync(a.ServerName));
        await servers.ReleaseAsync(new ReleaseServerInput("run-b", fx.Live, a.ServerName), CancellationToken.None);
    }

    [Fact]
    public async Task Acquire_ServerRcmPitrDidNotCreate_IsRefusedClearlyAndNeverDeleted()
    {
        fx.RequireEnvironment();
        var servers = Servers(fx.Environment.Provisioner);
        var t = await fx.NewRestoreSecondAsync();
        var name = ServerNames.Pitr(fx.Live.Name, RestoreStamp.From(t));
        var foreign = Path.Combine(fx.Environment.Layout.ServersDirectory, name);
        Directory.CreateDirectory(Path.Combine(foreign, "data"));
        await File.WriteAllTextAsync(Path.Combine(foreign, "data", "PG_VERSION"), "15\n", TestContext.Current.CancellationToken);

        var refused = await Assert.ThrowsAsync<DatabaseStateConflictException>(
            () => servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None));
        var released = await servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, name), CancellationToken.None);

        Assert.Contains("RcmPitr did not create it", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("delete it", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("remove it", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(released.Held);
        Assert.False(released.Deleted);
        Assert.Null(await RowStateAsync(name));
        Assert.True(File.Exists(Path.Combine(foreign, "data", "PG_VERSION")));
        Directory.Delete(foreign, recursive: true);
    }

    [Fact]
    public async Task Acquire_SameSecondAnotherFraction_IsRefusedWithoutTouchingTheServer()
    {
        fx.RequireEnvironment();
        var servers = Servers(fx.Environment.Provisioner);
        var t = await fx.NewRestoreSecondAsync();
        var a = await servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t.AddMilliseconds(300)), CancellationToken.None);

        var refused = await Assert.ThrowsAsync<InvalidRestoreInputException>(
            () => servers.AcquireAsync(new AcquireServerInput("run-b", fx.Live, t.AddMilliseconds(700)), CancellationToken.None));

        Assert.Equal("restoreTime", refused.Field);
        Assert.Contains("whole second", refused.Message, StringComparison.Ordinal);
        Assert.Equal(["run-a"], await HoldersAsync(a.ServerName));
        await servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, a.ServerName), CancellationToken.None);
    }

    [Fact]
    public async Task Acquire_OnAMasterWithoutRcmPitrTables_CreatesOnlyRcmPitrsOwnSchema()
    {
        fx.RequireEnvironment();
        var database = "master_platform_" + Guid.NewGuid().ToString("N")[..8];
        await using (var maintenance = await fx.Environment.Connector.OpenMaintenanceAsync(fx.Live, CancellationToken.None))
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {PgQuote.Identifier(database)}", maintenance))
        {
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        try
        {
            // A production master: the platform's tables exist (made by the platform, not recorded by RcmPitr), RcmPitr's do not.
            await using (var connection = await fx.Environment.Connector.OpenAsync(fx.Live, database, CancellationToken.None))
            await using (var platform = new NpgsqlCommand(EmbeddedSchema.Scripts(EmbeddedSchema.Master).Single(s => s.Name == "V001__control_plane").Sql, connection))
            {
                await platform.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            }

            var builder = new NpgsqlConnectionStringBuilder(fx.Master.DataSource.ConnectionString) { Database = database, Password = await fx.Environment.Secrets.GetSecretAsync(fx.Live.AdminSecretRef, CancellationToken.None) };
            await using var master = new ControlPlaneDatabase(NpgsqlDataSource.Create(builder.ConnectionString));
            var servers = new RestoredServers(master, fx.Environment.Provisioner, TimeProvider.System, NullLogger<RestoredServers>.Instance);
            var t = await fx.NewRestoreSecondAsync();

            var acquired = await servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None);
            await servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, acquired.ServerName), CancellationToken.None);

            await using var check = await master.OpenAsync(CancellationToken.None);
            await using var recorded = new NpgsqlCommand("SELECT string_agg(name, ',' ORDER BY name) FROM rcm_pitr_meta.schema_migrations", check);
            var own = string.Join(',', EmbeddedSchema.OwnMasterScripts().Select(script => script.Name).Order(StringComparer.Ordinal));
            Assert.Equal(own, await recorded.ExecuteScalarAsync(TestContext.Current.CancellationToken));
            Assert.Contains("V003__restored_servers", own, StringComparison.Ordinal);
            Assert.DoesNotContain("V001__control_plane", own, StringComparison.Ordinal);
            Assert.True(acquired.Created);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var maintenance = await fx.Environment.Connector.OpenMaintenanceAsync(fx.Live, CancellationToken.None);
            await new ServerCatalog(maintenance).DropIfExistsAsync(database, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Acquire_LoginThatMayNotCreateRcmPitrTables_FailsNamingTheScriptToApply()
    {
        fx.RequireEnvironment();
        var id = Guid.NewGuid().ToString("N")[..8];
        var database = "master_locked_" + id;
        var role = "control_plane_" + id;
        await using (var maintenance = await fx.Environment.Connector.OpenMaintenanceAsync(fx.Live, CancellationToken.None))
        {
            foreach (var sql in new[] { $"CREATE DATABASE {PgQuote.Identifier(database)}", $"CREATE ROLE {PgQuote.Identifier(role)} LOGIN PASSWORD 'control-plane-{id}'" })
            {
                await using var command = new NpgsqlCommand(sql, maintenance);
                await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            }
        }

        try
        {
            // The platform's login without CREATE on its master (PUBLIC may connect, not create).
            var builder = new NpgsqlConnectionStringBuilder { Host = fx.Live.Fqdn, Port = fx.Live.Port, Database = database, Username = role, Password = $"control-plane-{id}", Pooling = false };
            await using var master = new ControlPlaneDatabase(NpgsqlDataSource.Create(builder.ConnectionString));
            var provisioner = new FaultyProvisioner(fx.Environment.Provisioner);
            var servers = new RestoredServers(master, provisioner, TimeProvider.System, NullLogger<RestoredServers>.Instance);

            var error = await Assert.ThrowsAsync<InvalidOperationException>(
                () => servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, TimeProvider.System.GetUtcNow().AddMinutes(-1)), CancellationToken.None));

            Assert.Contains("V003__restored_servers.sql", error.Message, StringComparison.Ordinal);
            Assert.Equal(0, provisioner.Created);
        }
        finally
        {
            await using var maintenance = await fx.Environment.Connector.OpenMaintenanceAsync(fx.Live, CancellationToken.None);
            await new ServerCatalog(maintenance).DropIfExistsAsync(database, CancellationToken.None);
            await using var drop = new NpgsqlCommand($"DROP ROLE IF EXISTS {PgQuote.Identifier(role)}", maintenance);
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Release_LastHolderOfAServerTheProvisionerOnlyBorrows_ForgetsItSoTheNextRunAcquiresIt()
    {
        fx.RequireEnvironment();
        // A pre-restored server: Ready whatever its name, and never deleted by RcmPitr.
        var borrowed = new PreRestoredServerProvisioner(fx.Live with { Name = "pg-pre-restored" }, DateTimeOffset.MinValue);
        var servers = Servers(borrowed);
        var t = await fx.NewRestoreSecondAsync();
        var first = await servers.AcquireAsync(new AcquireServerInput("run-a", fx.Live, t), CancellationToken.None);

        var released = await servers.ReleaseAsync(new ReleaseServerInput("run-a", fx.Live, first.ServerName), CancellationToken.None);
        var next = await servers.AcquireAsync(new AcquireServerInput("run-b", fx.Live, t), CancellationToken.None);

        Assert.True(released.Held);
        Assert.Equal(["run-b"], next.Holders);
        Assert.Equal("active", await RowStateAsync(first.ServerName));
    }

    private RestoredServers Servers(IServerProvisioner provisioner) =>
        new(fx.Master, provisioner, TimeProvider.System, NullLogger<RestoredServers>.Instance);

    private Task<ServerStatus> StateAsync(string name) =>
        fx.Environment.Provisioner.GetStateAsync(new GetServerStateInput(fx.Live, name), CancellationToken.None);

    private async Task<ServerStatus> WaitReadyAsync(string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (true)
        {
            var status = await fx.Environment.Provisioner.GetStateAsync(new GetServerStateInput(fx.Live, name), timeout.Token);
            if (status.State == ServerState.Ready)
            {
                return status;
            }

            Assert.Equal(ServerState.Provisioning, status.State);
            await Task.Delay(200, timeout.Token);
        }
    }

    private async Task<string?> RowStateAsync(string name)
    {
        await using var connection = await fx.Master.OpenAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT state FROM rcm_pitr.restored_server WHERE server_name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        return (string?)await command.ExecuteScalarAsync();
    }

    private async Task<IReadOnlyList<string>> HoldersAsync(string name)
    {
        await using var connection = await fx.Master.OpenAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT coalesce(array_agg(run_id ORDER BY run_id), '{}') FROM rcm_pitr.restored_server_holder WHERE server_name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        return (string[])(await command.ExecuteScalarAsync())!;
    }
}
