using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Drills;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Tests.Restores;

/// <summary>The scenarios whose steps <see cref="OrchestratorShapeTests"/> pins, each on the scripted happy path.</summary>
internal static class ShapeScenarios
{
    private static readonly RollbackRequest Rollback = new("run-1", "acme", Script.RestoreTime, "wrong point", "alice");

    private static readonly Dictionary<string, (string Orchestrator, Func<ScriptedContext, Task> Run)> All = new(StringComparer.Ordinal)
    {
        ["restore-approved-streaming"] = (RestoreTenantOrchestrator.Name, c => Approved(c, () => new RestoreTenantOrchestrator().RunAsync(c, Script.Request()))),
        ["restore-approved-runbook"] = (RestoreTenantOrchestrator.Name, c => Approved(c, () => new RestoreTenantOrchestrator().RunAsync(c, Script.Request(transfer: TransferMode.Runbook)))),
        ["restore-approved-flip"] = (RestoreTenantOrchestrator.Name, c => Approved(c, () => new RestoreTenantOrchestrator().RunAsync(c, Script.Request(strategy: CutoverStrategy.FlipTheRef)))),
        ["restore-rejected"] = (RestoreTenantOrchestrator.Name, c =>
        {
            c.Raise(RestoreEvents.Approval, new ApprovalDecision(false, "bob"));
            return new RestoreTenantOrchestrator().RunAsync(c, Script.Request());
        }),
        ["restore-timed-out"] = (RestoreTenantOrchestrator.Name, c => new RestoreTenantOrchestrator().RunAsync(c, Script.Request())),
        ["dry-run"] = (RestoreTenantOrchestrator.Name, c => new RestoreTenantOrchestrator().RunAsync(c, Script.Request(RestoreMode.DryRun))),
        ["snapshot"] = (RestoreTenantOrchestrator.Name, c => new RestoreTenantOrchestrator().RunAsync(c, Script.Request(RestoreMode.Snapshot))),
        ["v2-restore-approved-streaming"] = (RestoreTenantV2Orchestrator.Name, c => Approved(c, () => new RestoreTenantV2Orchestrator().RunAsync(c, Script.Request()))),
        ["v2-restore-approved-runbook"] = (RestoreTenantV2Orchestrator.Name, c => Approved(c, () => new RestoreTenantV2Orchestrator().RunAsync(c, Script.Request(transfer: TransferMode.Runbook)))),
        ["v2-restore-approved-flip"] = (RestoreTenantV2Orchestrator.Name, c => Approved(c, () => new RestoreTenantV2Orchestrator().RunAsync(c, Script.Request(strategy: CutoverStrategy.FlipTheRef)))),
        ["v2-restore-rejected"] = (RestoreTenantV2Orchestrator.Name, c =>
        {
            c.Raise(RestoreEvents.Approval, new ApprovalDecision(false, "bob"));
            return new RestoreTenantV2Orchestrator().RunAsync(c, Script.Request());
        }),
        ["v2-restore-timed-out"] = (RestoreTenantV2Orchestrator.Name, c => new RestoreTenantV2Orchestrator().RunAsync(c, Script.Request())),
        ["v2-dry-run"] = (RestoreTenantV2Orchestrator.Name, c => new RestoreTenantV2Orchestrator().RunAsync(c, Script.Request(RestoreMode.DryRun))),
        ["v2-snapshot"] = (RestoreTenantV2Orchestrator.Name, c => new RestoreTenantV2Orchestrator().RunAsync(c, Script.Request(RestoreMode.Snapshot))),
        ["rollback-approved"] = (RollbackOrchestrator.Name, c => Approved(c, () => new RollbackOrchestrator().RunAsync(c, Rollback))),
        ["rollback-override"] = (RollbackOrchestrator.Name, c => new RollbackOrchestrator().RunAsync(c, Rollback with { Override = true })),
        ["rollback-flip"] = (RollbackOrchestrator.Name, c => Approved(c, () => new RollbackOrchestrator().RunAsync(c, Rollback with { Strategy = CutoverStrategy.FlipTheRef }))),
        ["batch-dry-run"] = (RestoreBatchOrchestrator.Name, c => Batch(c).RunAsync(c, BatchRequest(drill: false))),
        ["drill"] = (RestoreBatchOrchestrator.Name, c => Batch(c).RunAsync(c, BatchRequest(drill: true))),
        ["retention"] = (RetentionDropOrchestrator.Name, c => new RetentionDropOrchestrator().RunAsync(
            c, new RetentionDropRequest("run-1", Script.Live, "acme", "20260422143015", new DateTime(2026, 4, 30, 9, 0, 0, DateTimeKind.Utc)))),
        ["recovery-approved"] = (Workflow.Recoveries.RecoverServerOrchestrator.Name, c => Approved(c, () => Recovery(c))),
        ["recovery-rejected"] = (Workflow.Recoveries.RecoverServerOrchestrator.Name, c =>
        {
            c.Raise(RestoreEvents.Approval, new ApprovalDecision(false, "bob"));
            return Recovery(c);
        }),
    };

    // The recovery's own activities, scripted on the happy path (one poll before the geo-restored server is Ready).
    private static Task<Workflow.Recoveries.RecoverServerResult> Recovery(ScriptedContext context)
    {
        var polls = 0;
        context
            .On<ListServerTenantsInput, ListServerTenantsResult>(Workflow.Recoveries.RecoveryActivityNames.ListServerTenants, _ => new ListServerTenantsResult(Script.Live,
                [new TenantInfo(Script.TenantId, "acme", TenantStatus.Active, Script.Live, "tenant_acme", "tenant-db-acme")]))
            .On<ProbeServerInput, ProbeServerResult>(Workflow.Recoveries.RecoveryActivityNames.ProbeServer, i => new ProbeServerResult(i.Server.Name, false, "connection failed"))
            .On<GeoRestoreInput, GeoRestoreResult>(Workflow.Recoveries.RecoveryActivityNames.StartGeoRestore, i => new GeoRestoreResult(i.ServerName, ServerState.Provisioning, false, "westus2", Script.RestoreTime, "latest"))
            .On<GetServerStateInput, GeoRestoreState>(Workflow.Recoveries.RecoveryActivityNames.GetGeoRestoreState, i => polls++ == 0
                ? new GeoRestoreState(new ServerStatus(i.ServerName, ServerState.Provisioning))
                : new GeoRestoreState(new ServerStatus(i.ServerName, ServerState.Ready, Script.Live with { Name = i.ServerName }), "latest"))
            .On<CheckRecoveredTenantInput, CheckRecoveredTenantResult>(Workflow.Recoveries.RecoveryActivityNames.CheckRecoveredTenant, i => new CheckRecoveredTenantResult(i.Database, new Dictionary<string, long> { ["members.member"] = 3 }))
            .On<RepointTenantInput, RepointTenantResult>(Workflow.Recoveries.RecoveryActivityNames.RepointTenant, i => new RepointTenantResult(i.LostServer, "tenant-db-acme", "tenant-db-acme-geo", "tenant_acme", true));
        return new Workflow.Recoveries.RecoverServerOrchestrator().RunAsync(context, new Workflow.Recoveries.RecoverServerRequest(Script.Live.Name, "20260423090000", "region lost", "alice"));
    }

    public static IEnumerable<string> Names => All.Keys;

    public static IEnumerable<string> Orchestrators => All.Values.Select(v => v.Orchestrator).Distinct();

    /// <summary>Runs <paramref name="scenario"/> and returns its orchestrator and steps: activities by name, timers by kind.</summary>
    public static async Task<(string Orchestrator, IReadOnlyList<string> Steps)> RunAsync(string scenario)
    {
        var (orchestrator, run) = All[scenario];
        var context = Script.HappyPath();
        try
        {
            await run(context);
        }
        catch (RestoreFailedException)
        {
            // A scenario that ends failed still has a shape.
        }

        return (orchestrator, context.Log.Select(l => l.StartsWith("timer", StringComparison.Ordinal) ? "timer" : l).ToList());
    }

    // Two members on one server; each is read once running, then ended.
    private static RestoreBatchOrchestrator Batch(ScriptedContext context)
    {
        var reads = 0;
        context
            .On<StartBatchMemberInput, StartBatchMemberResult>(ActivityNames.StartBatchMember, _ => new StartBatchMemberResult(true, null))
            .On<ReadBatchMembersInput, IReadOnlyList<BatchMemberState>>(ActivityNames.ReadBatchMembers, i => ++reads == 1
                ? [.. i.RunIds.Select(id => new BatchMemberState(id, "Running", RestoreSteps.Transfer, false, false, null, null, null))]
                : [.. i.RunIds.Select(id => new BatchMemberState(id, "Completed", RestoreSteps.CleanUp, false, true, "Pass", nameof(RestoreOutcome.DryRunCompleted), null))])
            .On<RecordDrillInput, RecordDrillResult>(ActivityNames.RecordDrill, i => new RecordDrillResult(i.Members.Count, 0));
        return new RestoreBatchOrchestrator();
    }

    private static RestoreBatchRequest BatchRequest(bool drill) => new(
        [new BatchMember("acme", "restore-acme--20260422143015-b1", Script.Live.Name), new BatchMember("globex-health", "restore-globex-health--20260422143015-b1", Script.Live.Name)],
        Script.RestoreTime, RestoreMode.DryRun, CutoverStrategy.SwapAndKeep, "bad migration", "alice", drill ? "drill" : "tenants")
    {
        Drill = drill,
    };

    private static async Task Approved<T>(ScriptedContext context, Func<Task<T>> run)
    {
        context.Raise(RestoreEvents.Approval, new ApprovalDecision(true, "bob"));
        await run();
    }
}
