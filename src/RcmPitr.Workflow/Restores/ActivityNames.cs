namespace RcmPitr.Workflow.Restores;

/// <summary>Every activity name, in one place: call sites and registrations use these, never literals.</summary>
public static class ActivityNames
{
#pragma warning disable CS1591 // The names are their own documentation.
    public const string ResolveTenant = nameof(ResolveTenant);
    public const string FreezeTenant = nameof(FreezeTenant);
    public const string UnfreezeTenant = nameof(UnfreezeTenant);
    public const string ConfirmFreeze = nameof(ConfirmFreeze);
    public const string GetServerState = nameof(GetServerState);
    public const string AcquireServer = nameof(AcquireServer);
    public const string ReleaseServer = nameof(ReleaseServer);
    public const string Preflight = nameof(Preflight);
    public const string DumpTenant = nameof(DumpTenant);
    public const string DeleteDump = nameof(DeleteDump);
    public const string RestoreDatabase = nameof(RestoreDatabase);
    public const string MoveTenant = nameof(MoveTenant);
    public const string ParityProbe = nameof(ParityProbe);
    public const string CompareChanges = nameof(CompareChanges);
    public const string SwapCutover = nameof(SwapCutover);
    public const string FlipRefCutover = nameof(FlipRefCutover);
    public const string RollbackSwap = nameof(RollbackSwap);
    public const string RollbackFlip = nameof(RollbackFlip);
    public const string VerifyCutover = nameof(VerifyCutover);
    public const string InvalidateTenantCache = nameof(InvalidateTenantCache);
    public const string WriteAudit = nameof(WriteAudit);
    public const string Notify = nameof(Notify);
    public const string DropDerivedDatabase = nameof(DropDerivedDatabase);
    public const string ScheduleRetentionDrop = nameof(ScheduleRetentionDrop);
    public const string CancelRetentionDrop = nameof(CancelRetentionDrop);
    public const string StartBatchMember = nameof(StartBatchMember);
    public const string ReadBatchMembers = nameof(ReadBatchMembers);
    public const string CancelBatchMembers = nameof(CancelBatchMembers);
    public const string RecordDrill = nameof(RecordDrill);
#pragma warning restore CS1591
}
