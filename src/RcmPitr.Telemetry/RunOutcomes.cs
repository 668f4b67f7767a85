using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Telemetry;

/// <summary>How a run ended, by the final audit event it wrote (the <c>rcmpitr.outcome</c> of run records).</summary>
public static class RunOutcomes
{
    /// <summary>The audit events that end a run.</summary>
    public static IReadOnlyList<string> Events { get; } =
    [
        AuditEvents.PitrRestored, AuditEvents.PitrFailed, AuditEvents.PitrRejected, AuditEvents.PitrApprovalTimedOut,
        AuditEvents.PitrCancelled, AuditEvents.PitrRolledBack, AuditEvents.PitrDryRun, AuditEvents.PitrSnapshot,
    ];

    /// <summary>The outcome a final audit event stands for, or null for an event that does not end a run.</summary>
    public static string? Of(string? auditEvent) => auditEvent switch
    {
        AuditEvents.PitrRestored => "restored",
        AuditEvents.PitrFailed => "failed",
        AuditEvents.PitrRejected => "rejected",
        AuditEvents.PitrApprovalTimedOut => "approval_timed_out",
        AuditEvents.PitrCancelled => "cancelled",
        AuditEvents.PitrRolledBack => "rolled_back",
        AuditEvents.PitrDryRun => "dry_run_completed",
        AuditEvents.PitrSnapshot => "snapshot_created",
        _ => null,
    };
}
