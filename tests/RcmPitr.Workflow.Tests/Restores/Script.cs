using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Tests.Restores;

/// <summary>A scripted happy path of every activity; tests override the ones they are about.</summary>
internal static class Script
{
    public static readonly DateTimeOffset RestoreTime = new(2026, 4, 22, 14, 30, 15, TimeSpan.Zero);
    public static readonly Guid TenantId = Guid.Parse("11111111-2222-3333-4444-555555555555");
    public static readonly DbServerInfo Live = new("pg-us-east-1", "pg-us-east-1.example", 5432, "admin", "pg-admin", 17);
    public static readonly DbServerInfo Pitr = Live with { Name = "pg-us-east-1-pitr-202604221430", Fqdn = "pitr.example" };

    public static RestoreRequest Request(RestoreMode mode = RestoreMode.Restore, CutoverStrategy strategy = CutoverStrategy.SwapAndKeep, TransferMode? transfer = null)
    {
        var request = new RestoreRequest("acme", RestoreTime, mode, strategy, "bad migration", "alice");
        return transfer is { } t ? request with { Transfer = t } : request;
    }

    public static ParityReport Report(ParityVerdict verdict = ParityVerdict.Pass) =>
        ParityReport.From("tenant_acme", "tenant_acme_restore_202604221430",
        [
            new ParityRow("identity.organization", 3, 3, ParityVerdict.Pass, "equal"),
            new ParityRow("members.member", 120, verdict == ParityVerdict.Fail ? 0 : 100, verdict, "n"),
        ]);

    public static ChangeSummary Changes() =>
        new(Partial: false, Seconds: 2.5, TablesCompared: 14, TablesChanged: 2, OnlyInLive: 120, OnlyInCopy: 4, Different: 7,
        [
            new TableChangeCount("members.member", TableMatch.PrimaryKey, 100, 4, 7, false),
            new TableChangeCount("billing.claim_line", TableMatch.RowHash, 20, 0, 0, false),
        ]);

    public static ScriptedContext HappyPath(ScriptedContext? context = null, int pollsBeforeReady = 0)
    {
        var polls = 0;
        return (context ?? new ScriptedContext())
            .On<ResolveTenantInput, TenantInfo>(ActivityNames.ResolveTenant, i => new TenantInfo(TenantId, i.Tenant, TenantStatus.Active, Live, "tenant_acme", "tenant-db-acme"))
            .On<FreezeTenantInput, FreezeTenantResult>(ActivityNames.FreezeTenant, _ => new FreezeTenantResult(TenantStatus.Active, true))
            .On<UnfreezeTenantInput, UnfreezeTenantResult>(ActivityNames.UnfreezeTenant, _ => new UnfreezeTenantResult(UnfreezeOutcome.Unfrozen, TenantStatus.Active))
            .On<ConfirmFreezeInput, ConfirmFreezeResult>(ActivityNames.ConfirmFreeze, _ => new ConfirmFreezeResult(new DateTimeOffset(2026, 4, 23, 9, 0, 0, TimeSpan.Zero)))
            .On<AcquireServerInput, AcquireServerResult>(ActivityNames.AcquireServer, i => new AcquireServerResult($"{i.Source.Name}-pitr-{RcmPitr.Workflow.Naming.RestoreStamp.From(i.RestoreTime).Value}", ServerState.Provisioning, true, [i.RunId]))
            .On<GetServerStateInput, ServerStatus>(ActivityNames.GetServerState, i => polls++ < pollsBeforeReady
                ? new ServerStatus(i.ServerName, ServerState.Provisioning)
                : new ServerStatus(i.ServerName, ServerState.Ready, Pitr))
            .On<PreflightInput, PreflightResult>(ActivityNames.Preflight, _ => new PreflightResult(17, 17, "pg_dump (PostgreSQL) 17.2", "pg_restore (PostgreSQL) 17.2", 1000, 10_000, 2000, []))
            .On<DumpTenantInput, DumpTenantResult>(ActivityNames.DumpTenant, _ => new DumpTenantResult("/scratch/run-1/x.dump", 500, new string('a', 64), false))
            .On<RestoreDatabaseInput, RestoreDatabaseResult>(ActivityNames.RestoreDatabase, i => new RestoreDatabaseResult(i.Target == DerivedDatabaseKind.AsOf ? "tenant_acme_asof_202604221430" : "tenant_acme_restore_202604221430", 900, false))
            .On<MoveTenantInput, MoveTenantResult>(ActivityNames.MoveTenant, i => new MoveTenantResult(
                i.Target == DerivedDatabaseKind.AsOf ? "tenant_acme_asof_202604221430" : "tenant_acme_restore_202604221430", 900, false, i.Mode, 5, 700, 4096, 1.5))
            .On<ParityProbeInput, ParityReport>(ActivityNames.ParityProbe, _ => Report())
            .On<CompareChangesInput, ChangeSummary>(ActivityNames.CompareChanges, _ => Changes())
            .On<SwapCutoverInput, SwapCutoverResult>(ActivityNames.SwapCutover, _ => new SwapCutoverResult("tenant_acme", "tenant_acme_pre_pitr_202604221430", 2, false))
            .On<FlipRefCutoverInput, FlipRefCutoverResult>(ActivityNames.FlipRefCutover, _ => new FlipRefCutoverResult("tenant-db-acme", "tenant-db-acme-202604221430", "tenant_acme_restore_202604221430", true))
            .On<InvalidateTenantCacheInput, bool>(ActivityNames.InvalidateTenantCache, _ => true)
            .On<VerifyCutoverInput, VerifyCutoverResult>(ActivityNames.VerifyCutover, i => new VerifyCutoverResult(i.Database, i.ExpectedCounts))
            .On<WriteAuditInput, WriteAuditResult>(ActivityNames.WriteAudit, _ => new WriteAuditResult(7, true))
            .On<NotifyInput, bool>(ActivityNames.Notify, _ => true)
            .On<ReleaseServerInput, ReleaseServerResult>(ActivityNames.ReleaseServer, i => new ReleaseServerResult(i.ServerName, true, true, []))
            .On<DeleteDumpInput, DeleteDumpResult>(ActivityNames.DeleteDump, _ => new DeleteDumpResult(2, 600))
            .On<DropDerivedDatabaseInput, DropDerivedDatabaseResult>(ActivityNames.DropDerivedDatabase, i => new DropDerivedDatabaseResult($"tenant_acme_{i.Kind}", true))
            .On<ScheduleRetentionDropInput, bool>(ActivityNames.ScheduleRetentionDrop, _ => true)
            .On<RollbackSwapInput, RollbackSwapResult>(ActivityNames.RollbackSwap, _ => new RollbackSwapResult("tenant_acme", "tenant_acme_rollback_202604221430", 1, false))
            .On<RollbackFlipInput, RollbackFlipResult>(ActivityNames.RollbackFlip, _ => new RollbackFlipResult("tenant-db-acme", "tenant_acme_restore_202604221430", true))
            .On<CancelRetentionDropInput, bool>(ActivityNames.CancelRetentionDrop, _ => true);
    }
}
