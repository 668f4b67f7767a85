using System.Collections.Concurrent;
using Microsoft.DurableTask;
using RcmPitr.Engine.Hosting;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Scenarios.Tests.Activities;

/// <summary>
/// Every activity of the workflow as a scripted stub, registered the same way on both engines: a happy path by
/// default, failures and holds scripted per test, and every delivery recorded in order. The real activities are
/// tested against real servers elsewhere; here only the orchestrators and the engines under them are on trial.
/// </summary>
public sealed class FakeActivities
{
    public const string Tenant = "acme";
    public const string LiveDatabase = "tenant_acme";
    public static readonly Guid TenantId = Guid.Parse("11111111-2222-3333-4444-555555555555");
    public static readonly DateTimeOffset RestoreTime = new(2026, 4, 22, 14, 30, 15, TimeSpan.Zero);
    public static readonly DbServerInfo Live = new("pg-us-east-1", "pg-us-east-1.example", 5432, "admin", "pg-admin", 17);
    public static readonly DbServerInfo Pitr = Live with { Name = "pg-us-east-1-pitr-202604221430", Fqdn = "pitr.example" };

    private readonly Dictionary<string, IStub> _stubs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ActivityCall> _calls = new();
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Func<int, Exception?>> _failures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ActivityHold> _holds = new(StringComparer.Ordinal);

    public FakeActivities()
    {
        On<ResolveTenantInput, TenantInfo>(ActivityNames.ResolveTenant, i => new TenantInfo(TenantId, i.Tenant, TenantStatus.Active, Live, LiveDatabase, "tenant-db-acme"));
        On<FreezeTenantInput, FreezeTenantResult>(ActivityNames.FreezeTenant, _ => new FreezeTenantResult(TenantStatus.Active, true));
        On<UnfreezeTenantInput, UnfreezeTenantResult>(ActivityNames.UnfreezeTenant, _ => new UnfreezeTenantResult(UnfreezeOutcome.Unfrozen, TenantStatus.Active));
        On<ConfirmFreezeInput, ConfirmFreezeResult>(ActivityNames.ConfirmFreeze, _ => new ConfirmFreezeResult(new DateTimeOffset(2026, 4, 23, 9, 0, 0, TimeSpan.Zero)));
        On<AcquireServerInput, AcquireServerResult>(ActivityNames.AcquireServer, i =>
            new AcquireServerResult(ServerNames.Pitr(i.Source.Name, RestoreStamp.Parse(RestoreStamp.From(i.RestoreTime).Value)), ServerState.Provisioning, true, [i.RunId]));
        On<GetServerStateInput, ServerStatus>(ActivityNames.GetServerState, i => new ServerStatus(i.ServerName, ServerState.Ready, Pitr with { Name = i.ServerName }));
        On<ReleaseServerInput, ReleaseServerResult>(ActivityNames.ReleaseServer, i => new ReleaseServerResult(i.ServerName, true, true, []));
        On<PreflightInput, PreflightResult>(ActivityNames.Preflight, _ => new PreflightResult(17, 17, "pg_dump (PostgreSQL) 17.2", "pg_restore (PostgreSQL) 17.2", 1000, 10_000, 2000, []));
        On<DumpTenantInput, DumpTenantResult>(ActivityNames.DumpTenant, i => new DumpTenantResult($"/scratch/{i.RunId}/{i.Tenant}.dump", 500, new string('a', 64), false));
        On<DeleteDumpInput, DeleteDumpResult>(ActivityNames.DeleteDump, _ => new DeleteDumpResult(2, 600));
        On<RestoreDatabaseInput, RestoreDatabaseResult>(ActivityNames.RestoreDatabase, i => new RestoreDatabaseResult(DerivedName(i.Target, i.Stamp), 900, false));
        On<MoveTenantInput, MoveTenantResult>(ActivityNames.MoveTenant, i => new MoveTenantResult(DerivedName(i.Target, i.Stamp), 900, false, i.Mode, 5, 700, 4096, 1.5));
        On<ParityProbeInput, ParityReport>(ActivityNames.ParityProbe, i => ParityReport.From(LiveDatabase, DerivedName(i.RestoredDatabase, i.Stamp),
        [
            new ParityRow("identity.organization", 3, 3, ParityVerdict.Pass, "equal"),
            new ParityRow("members.member", 120, 100, ParityVerdict.Pass, "same order of magnitude"),
        ]));
        On<CompareChangesInput, ChangeSummary>(ActivityNames.CompareChanges, _ => new ChangeSummary(false, 0.5, 3, 1, 20, 1, 0,
            [new TableChangeCount("members.member", TableMatch.PrimaryKey, 20, 1, 0, false)]));
        On<SwapCutoverInput, SwapCutoverResult>(ActivityNames.SwapCutover, i => new SwapCutoverResult(LiveDatabase, DerivedName(DerivedDatabaseKind.PrePitr, i.Stamp), 2, false));
        On<FlipRefCutoverInput, FlipRefCutoverResult>(ActivityNames.FlipRefCutover, i => new FlipRefCutoverResult("tenant-db-acme", $"tenant-db-acme-{i.Stamp}", DerivedName(DerivedDatabaseKind.Restore, i.Stamp), true));
        On<RollbackSwapInput, RollbackSwapResult>(ActivityNames.RollbackSwap, i => new RollbackSwapResult(LiveDatabase, DerivedName(DerivedDatabaseKind.Rollback, i.Stamp), 1, false));
        On<RollbackFlipInput, RollbackFlipResult>(ActivityNames.RollbackFlip, _ => new RollbackFlipResult("tenant-db-acme", "tenant_acme_restore_202604221430", true));
        On<VerifyCutoverInput, VerifyCutoverResult>(ActivityNames.VerifyCutover, i => new VerifyCutoverResult(i.Database, i.ExpectedCounts));
        On<InvalidateTenantCacheInput, bool>(ActivityNames.InvalidateTenantCache, _ => true);
        On<WriteAuditInput, WriteAuditResult>(ActivityNames.WriteAudit, _ => new WriteAuditResult(7, true));
        On<NotifyInput, bool>(ActivityNames.Notify, _ => true);
        On<DropDerivedDatabaseInput, DropDerivedDatabaseResult>(ActivityNames.DropDerivedDatabase, i => new DropDerivedDatabaseResult(DerivedName(i.Kind, i.Stamp), true));
        On<ScheduleRetentionDropInput, bool>(ActivityNames.ScheduleRetentionDrop, _ => true);
        On<CancelRetentionDropInput, bool>(ActivityNames.CancelRetentionDrop, _ => true);
        On<StartBatchMemberInput, StartBatchMemberResult>(ActivityNames.StartBatchMember, _ => new StartBatchMemberResult(true, null));
        On<ReadBatchMembersInput, IReadOnlyList<BatchMemberState>>(ActivityNames.ReadBatchMembers, i =>
            [.. i.RunIds.Select(id => new BatchMemberState(id, "Completed", RestoreSteps.CleanUp, false, true, "Pass", nameof(RestoreOutcome.DryRunCompleted), null))]);
        On<CancelBatchMembersInput, int>(ActivityNames.CancelBatchMembers, i => i.RunIds.Count);
        On<ListServerTenantsInput, ListServerTenantsResult>(Workflow.Recoveries.RecoveryActivityNames.ListServerTenants, _ => new ListServerTenantsResult(Live,
            [new TenantInfo(TenantId, "acme", TenantStatus.Active, Live, "tenant_acme", "tenant-db-acme"), new TenantInfo(OtherTenantId, "globex-health", TenantStatus.Active, Live, "tenant_globex_health", "tenant-db-globex-health")]));
        On<ProbeServerInput, ProbeServerResult>(Workflow.Recoveries.RecoveryActivityNames.ProbeServer, i => new ProbeServerResult(i.Server.Name, false, "connection failed"));
        On<GeoRestoreInput, GeoRestoreResult>(Workflow.Recoveries.RecoveryActivityNames.StartGeoRestore, i => new GeoRestoreResult(i.ServerName, ServerState.Provisioning, false, "local", RestoreTime, "the latest geo-backup"));
        On<GetServerStateInput, GeoRestoreState>(Workflow.Recoveries.RecoveryActivityNames.GetGeoRestoreState, i =>
            new GeoRestoreState(new ServerStatus(i.ServerName, ServerState.Ready, Live with { Name = i.ServerName, Fqdn = "geo.example" }), "latest archived state, not a point in time"));
        On<CheckRecoveredTenantInput, CheckRecoveredTenantResult>(Workflow.Recoveries.RecoveryActivityNames.CheckRecoveredTenant, i => new CheckRecoveredTenantResult(i.Database, new Dictionary<string, long> { ["members.member"] = 100 }));
        On<RepointTenantInput, RepointTenantResult>(Workflow.Recoveries.RecoveryActivityNames.RepointTenant, i => new RepointTenantResult(i.LostServer, $"tenant-db-{i.Tenant}", $"tenant-db-{i.Tenant}-geo", $"tenant_{i.Tenant}", true));
    }

    /// <summary>The second tenant of the recovery scenarios.</summary>
    public static readonly Guid OtherTenantId = Guid.Parse("66666666-7777-8888-9999-000000000000");

    /// <summary>Every delivery so far, in the order the activities started.</summary>
    public IReadOnlyList<ActivityCall> Calls => [.. _calls];

    /// <summary>The names of <see cref="Calls"/>.</summary>
    public IReadOnlyList<string> Names => [.. _calls.Select(c => c.Name)];

    /// <summary>The deliveries of one activity.</summary>
    public IReadOnlyList<ActivityCall> CallsOf(string name) => [.. _calls.Where(c => c.Name == name)];

    /// <summary>Replaces the result of <paramref name="name"/>.</summary>
    public FakeActivities On<TInput, TOutput>(string name, Func<TInput, TOutput> result)
    {
        _stubs[name] = new Stub<TInput, TOutput>(this, name, result);
        return this;
    }

    /// <summary>Makes delivery number n (1-based) of <paramref name="name"/> throw what <paramref name="failure"/> returns for n (null: succeed).</summary>
    public FakeActivities Fail(string name, Func<int, Exception?> failure)
    {
        _failures[name] = failure;
        return this;
    }

    /// <summary>Holds every delivery of <paramref name="name"/> until the test releases it.</summary>
    public ActivityHold Hold(string name) => _holds.GetOrAdd(name, _ => new ActivityHold());

    /// <summary>Registers every stub with the embedded engine.</summary>
    public void RegisterOn(DurableRegistry registry)
    {
        foreach (var stub in _stubs.Values)
        {
            stub.RegisterOn(registry);
        }
    }

    /// <summary>Registers every stub with the Durable Task SDK worker.</summary>
    public void RegisterOn(DurableTaskRegistry registry)
    {
        foreach (var stub in _stubs.Values)
        {
            stub.RegisterOn(registry);
        }
    }

    private static string DerivedName(DerivedDatabaseKind kind, string stamp) => kind switch
    {
        DerivedDatabaseKind.PrePitr => $"{LiveDatabase}_pre_pitr_{stamp}",
        DerivedDatabaseKind.Rollback => $"{LiveDatabase}_rollback_{stamp}",
        DerivedDatabaseKind.AsOf => $"{LiveDatabase}_asof_{stamp}",
        _ => $"{LiveDatabase}_restore_{stamp}",
    };

    private async Task<TOutput> RunAsync<TInput, TOutput>(string name, TInput input, Func<TInput, TOutput> result)
    {
        ArgumentNullException.ThrowIfNull(input);
        // Attempts of one call: the same activity with the same input (a run calls Notify twice, for two messages).
        var attempt = _attempts.AddOrUpdate($"{name}|{input}", 1, (_, n) => n + 1);
        var failure = _failures.TryGetValue(name, out var script) ? script(attempt) : null;
        _calls.Enqueue(new ActivityCall(name, attempt, TimeProvider.System.GetUtcNow().UtcDateTime, input, failure?.GetType().Name));
        if (_holds.TryGetValue(name, out var hold))
        {
            await hold.EnterAsync();
        }

        return failure is null ? result(input) : throw failure;
    }

    private interface IStub
    {
        void RegisterOn(DurableRegistry registry);

        void RegisterOn(DurableTaskRegistry registry);
    }

    private sealed class Stub<TInput, TOutput>(FakeActivities owner, string name, Func<TInput, TOutput> result) : IStub
    {
        public void RegisterOn(DurableRegistry registry) =>
            registry.AddActivity<TInput, TOutput>(name, (input, _) => owner.RunAsync(name, input, result));

        public void RegisterOn(DurableTaskRegistry registry) =>
            registry.AddActivityFunc<TInput, TOutput>(name, (_, input) => owner.RunAsync(name, input, result));
    }
}
