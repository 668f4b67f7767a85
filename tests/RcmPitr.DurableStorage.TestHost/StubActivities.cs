using Microsoft.DurableTask;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.DurableStorage.TestHost;

/// <summary>
/// Stand-ins for the activities of a restore (the real ones are proven against real clusters elsewhere): each records
/// its execution in the <see cref="ActivityLog"/> and answers as a healthy run would, so what is under test is only
/// the durable engine — which steps run, how often, and in which process.
/// </summary>
public static class StubActivities
{
    /// <summary>The tenant every stub answers for.</summary>
    public static readonly Guid TenantId = new("6f1c2b9e-3d4a-4f5b-8c7d-0e1f2a3b4c5d");

    private static readonly DbServerInfo Live = new("pg-live", "pg-live.example.internal", 5432, "rcm_admin", "pg-live-admin", 15);

    public static DurableTaskRegistry Register(DurableTaskRegistry registry, ActivityLog log)
    {
        Stub(registry, log, ActivityNames.ResolveTenant, (ResolveTenantInput i) => new TenantInfo(TenantId, i.Tenant, TenantStatus.Active, Live, $"tenant_{i.Tenant}", null));
        Stub(registry, log, ActivityNames.FreezeTenant, (FreezeTenantInput _) => new FreezeTenantResult(TenantStatus.Active, Changed: true));
        Stub(registry, log, ActivityNames.AcquireServer, (AcquireServerInput i) => new AcquireServerResult($"{i.Source.Name}-pitr", ServerState.Provisioning, Created: true, [i.RunId]));
        Stub(registry, log, ActivityNames.GetServerState, (GetServerStateInput i) =>
            new ServerStatus(i.ServerName, ServerState.Ready, Live with { Name = i.ServerName, Fqdn = $"{i.ServerName}.example.internal" }));
        Stub(registry, log, ActivityNames.Preflight, (PreflightInput _) => new PreflightResult(15, 15, "15.8", "15.8", 8_192_000, 1L << 30, 0, []));
        Stub(registry, log, ActivityNames.MoveTenant, (MoveTenantInput i) =>
            new MoveTenantResult($"tenant_{i.Tenant}_restore_{i.Stamp}", 8_192_000, Reused: false, i.Mode, Tables: 3, BytesMoved: 8_000_000, PeakScratchBytes: 0, Seconds: 0.5));
        Stub(registry, log, ActivityNames.ParityProbe, (ParityProbeInput i) =>
            ParityReport.From($"tenant_{i.Tenant}", $"tenant_{i.Tenant}_restore_{i.Stamp}", [new ParityRow("public.claims", 120, 118, ParityVerdict.Pass, "restored ≤ live")]));
        Stub(registry, log, ActivityNames.CompareChanges, (CompareChangesInput _) =>
            new ChangeSummary(Partial: false, Seconds: 0.2, TablesCompared: 1, TablesChanged: 1, OnlyInLive: 2, OnlyInCopy: 0, Different: 0,
                [new TableChangeCount("public.claims", TableMatch.PrimaryKey, 2, 0, 0, false)]));
        Stub(registry, log, ActivityNames.ConfirmFreeze, (ConfirmFreezeInput _) => new ConfirmFreezeResult(TimeProvider.System.GetUtcNow()));
        Stub(registry, log, ActivityNames.SwapCutover, (SwapCutoverInput i) =>
            new SwapCutoverResult($"tenant_{i.Tenant}", $"tenant_{i.Tenant}_pre_pitr_{i.Stamp}", TerminatedConnections: 0, AlreadyDone: false));
        Stub(registry, log, ActivityNames.InvalidateTenantCache, (InvalidateTenantCacheInput _) => true);
        Stub(registry, log, ActivityNames.VerifyCutover, (VerifyCutoverInput i) => new VerifyCutoverResult(i.Database, i.ExpectedCounts));
        Stub(registry, log, ActivityNames.UnfreezeTenant, (UnfreezeTenantInput _) => new UnfreezeTenantResult(UnfreezeOutcome.Unfrozen, TenantStatus.Active));
        Stub(registry, log, ActivityNames.WriteAudit, (WriteAuditInput _) => new WriteAuditResult(AuditId: 1, Inserted: true));
        Stub(registry, log, ActivityNames.Notify, (NotifyInput _) => true);
        Stub(registry, log, ActivityNames.ReleaseServer, (ReleaseServerInput i) => new ReleaseServerResult(i.ServerName, Held: true, Deleted: true, []));
        Stub(registry, log, ActivityNames.DeleteDump, (DeleteDumpInput _) => new DeleteDumpResult(FilesDeleted: 0, BytesFreed: 0));
        Stub(registry, log, ActivityNames.DropDerivedDatabase, (DropDerivedDatabaseInput i) => new DropDerivedDatabaseResult($"tenant_{i.Tenant}_restore_{i.Stamp}", Dropped: true));
        Stub(registry, log, ActivityNames.ScheduleRetentionDrop, (ScheduleRetentionDropInput _) => true);
        return registry;
    }

    private static void Stub<TInput, TOutput>(DurableTaskRegistry registry, ActivityLog log, string name, Func<TInput, TOutput> answer) =>
        registry.AddActivityFunc<TInput, TOutput>(name, (context, input) =>
        {
            log.Record(name, context.InstanceId);
            return answer(input);
        });
}
