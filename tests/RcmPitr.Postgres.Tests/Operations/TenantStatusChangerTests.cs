using Npgsql;
using RcmPitr.Postgres.Tests.Fixtures;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;

namespace RcmPitr.Postgres.Tests.Operations;

public sealed class TenantStatusChangerTests(ClusterFixture fx)
{
    [Fact]
    public async Task FreezeAsync_ActiveTenant_SetsReadOnlyWritesOneAuditRowAndNotifies()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        await using var listener = await ListenAsync(s);

        var result = await s.StatusChanger.FreezeAsync(new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR restore"), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.Equal(TenantStatus.Active, result.PreviousStatus);
        Assert.Equal("read_only", await s.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", tenant.TenantId));
        Assert.Equal("PITR restore", await s.MasterScalarAsync<string>("SELECT status_reason FROM identity.tenant WHERE id = $1", tenant.TenantId));
        Assert.Equal(1L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_STATUS_CHANGED' AND actor = 'alice'", tenant.TenantId));
        Assert.Equal(tenant.TenantId.ToString(), await listener.NextPayloadAsync());
    }

    [Fact]
    public async Task FreezeAsync_RunTwice_ChangesOnceAndWritesOneAuditRow()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        var input = new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR restore");

        var first = await s.StatusChanger.FreezeAsync(input, CancellationToken.None);
        var second = await s.StatusChanger.FreezeAsync(input, CancellationToken.None);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Equal(TenantStatus.Active, second.PreviousStatus);
        Assert.Equal(1L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task FreezeAsync_ConcurrentAttemptsOfOneRun_WriteOneAuditRow()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        var input = new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR restore");

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => s.StatusChanger.FreezeAsync(input, CancellationToken.None)));

        Assert.Equal(1, results.Count(r => r.Changed));
        Assert.Equal(1L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task FreezeAsync_AfterCrashBeforeCommit_ConvergesOnRerun()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        // A worker died mid-transaction: the status update ran but never committed.
        await using (var dying = await s.Master.OpenAsync(CancellationToken.None))
        {
            var transaction = await dying.BeginTransactionAsync(TestContext.Current.CancellationToken);
            await using var update = new NpgsqlCommand("UPDATE identity.tenant SET status = 'read_only' WHERE id = $1", dying, transaction);
            update.Parameters.Add(new NpgsqlParameter { Value = tenant.TenantId });
            await update.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
            await using var kill = new NpgsqlCommand("SELECT pg_backend_pid()", dying, transaction);
            var pid = (int)(await kill.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
            await s.ExecMasterAsync("SELECT pg_terminate_backend($1)", pid);
        }

        var result = await s.StatusChanger.FreezeAsync(new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR"), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.Equal("read_only", await s.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", tenant.TenantId));
        Assert.Equal(1L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task FreezeAsync_FrozenByAnotherRun_ThrowsAndChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        await s.StatusChanger.FreezeAsync(new FreezeTenantInput("other-run", tenant.TenantId, "bob", "other"), CancellationToken.None);

        await Assert.ThrowsAsync<TenantStatusConflictException>(
            () => s.StatusChanger.FreezeAsync(new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR"), CancellationToken.None));

        Assert.Equal(1L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task UnfreezeAsync_Frozen_SetsActiveOnceEvenWhenRetried()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        await s.StatusChanger.FreezeAsync(new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR"), CancellationToken.None);
        var input = new UnfreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR restore complete");

        var first = await s.StatusChanger.UnfreezeAsync(input, CancellationToken.None);
        var second = await s.StatusChanger.UnfreezeAsync(input, CancellationToken.None);

        Assert.Equal(UnfreezeOutcome.Unfrozen, first.Outcome);
        Assert.Equal(UnfreezeOutcome.Unfrozen, second.Outcome);
        Assert.Equal(TenantStatus.Active, second.Status);
        Assert.Equal(2L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task UnfreezeAsync_Suspended_IsLeftSuspended()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1, status: "suspended");

        var result = await s.StatusChanger.UnfreezeAsync(new UnfreezeTenantInput(s.RunId, tenant.TenantId, "alice", "done"), CancellationToken.None);

        Assert.Equal(UnfreezeOutcome.LeftSuspended, result.Outcome);
        Assert.Equal("suspended", await s.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", tenant.TenantId));
        Assert.Equal(0L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task UnfreezeAsync_AlreadyActive_ChangesNothing()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);

        var result = await s.StatusChanger.UnfreezeAsync(new UnfreezeTenantInput(s.RunId, tenant.TenantId, "alice", "done"), CancellationToken.None);

        Assert.Equal(UnfreezeOutcome.AlreadyActive, result.Outcome);
        Assert.Equal(0L, await s.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task UnfreezeAsync_FreezeOfThisRunWasRefused_LeavesTheOtherRunsFreeze()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        await s.StatusChanger.FreezeAsync(new FreezeTenantInput("winner-run", tenant.TenantId, "bob", "PITR of the winner"), CancellationToken.None);
        await Assert.ThrowsAsync<TenantStatusConflictException>(
            () => s.StatusChanger.FreezeAsync(new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR"), CancellationToken.None));

        // The losing run compensates its (refused) freeze.
        var result = await s.StatusChanger.UnfreezeAsync(new UnfreezeTenantInput(s.RunId, tenant.TenantId, "alice", "ended without cutover"), CancellationToken.None);

        Assert.Equal(UnfreezeOutcome.NotFrozenByThisRun, result.Outcome);
        Assert.Equal("read_only", await s.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", tenant.TenantId));
        Assert.Equal("PITR of the winner", await s.MasterScalarAsync<string>("SELECT status_reason FROM identity.tenant WHERE id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task UnfreezeAsync_OperatorRefrozeAfterThisRunsFreeze_LeavesTheOperatorsFreeze()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        await s.StatusChanger.FreezeAsync(new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR"), CancellationToken.None);
        // An operator lifts the freeze and sets read_only again for a reason of their own, with the platform's tool.
        await s.ExecMasterAsync("UPDATE identity.tenant SET status = 'active', status_changed_at = clock_timestamp() WHERE id = $1", tenant.TenantId);
        await s.ExecMasterAsync("UPDATE identity.tenant SET status = 'read_only', status_reason = 'billing hold', status_changed_at = clock_timestamp() WHERE id = $1", tenant.TenantId);

        var result = await s.StatusChanger.UnfreezeAsync(new UnfreezeTenantInput(s.RunId, tenant.TenantId, "alice", "done"), CancellationToken.None);

        Assert.Equal(UnfreezeOutcome.NotFrozenByThisRun, result.Outcome);
        Assert.Equal("billing hold", await s.MasterScalarAsync<string>("SELECT status_reason FROM identity.tenant WHERE id = $1", tenant.TenantId));
        Assert.Equal("read_only", await s.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", tenant.TenantId));
    }

    [Fact]
    public async Task ConfirmFreezeAsync_StillFrozenByThisRun_ReturnsWhenItFroze()
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        await s.StatusChanger.FreezeAsync(new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR"), CancellationToken.None);

        var result = await s.StatusChanger.ConfirmFreezeAsync(new ConfirmFreezeInput(s.RunId, tenant.TenantId), CancellationToken.None);

        Assert.Equal(await s.MasterScalarAsync<DateTime>("SELECT status_changed_at FROM identity.tenant WHERE id = $1", tenant.TenantId), result.FrozenAt.UtcDateTime);
    }

    [Theory]
    [InlineData("active")]
    [InlineData("read_only")]
    public async Task ConfirmFreezeAsync_StatusChangedByAnotherSinceTheFreeze_IsRefusedNamingTheChange(string changedTo)
    {
        await using var s = await Scenario.StartAsync(fx);
        var tenant = await s.AddTenantAsync(s.NewSlug(), liveMembers: 1);
        await s.StatusChanger.FreezeAsync(new FreezeTenantInput(s.RunId, tenant.TenantId, "alice", "PITR"), CancellationToken.None);
        await s.ExecMasterAsync("UPDATE identity.tenant SET status = $2, status_reason = 'customer complaint', status_changed_at = clock_timestamp() WHERE id = $1", tenant.TenantId, changedTo);

        var error = await Assert.ThrowsAsync<TenantStatusConflictException>(
            () => s.StatusChanger.ConfirmFreezeAsync(new ConfirmFreezeInput(s.RunId, tenant.TenantId), CancellationToken.None));

        Assert.Contains("no longer frozen by run", error.Message, StringComparison.Ordinal);
        Assert.Contains("customer complaint", error.Message, StringComparison.Ordinal);
    }

    internal static async Task<NotificationListener> ListenAsync(Scenario s)
    {
        var connection = await s.Master.OpenAsync(CancellationToken.None);
        var listener = new NotificationListener(connection);
        await using var listen = new NpgsqlCommand("LISTEN \"tenant.status.changed\"", connection);
        await listen.ExecuteNonQueryAsync();
        return listener;
    }

    internal sealed class NotificationListener : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly Queue<string> _payloads = new();

        public NotificationListener(NpgsqlConnection connection)
        {
            _connection = connection;
            _connection.Notification += (_, e) => _payloads.Enqueue(e.Payload);
        }

        public async Task<string> NextPayloadAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (_payloads.Count == 0)
            {
                await _connection.WaitAsync(timeout.Token);
            }

            return _payloads.Dequeue();
        }

        public ValueTask DisposeAsync() => _connection.DisposeAsync();
    }
}
