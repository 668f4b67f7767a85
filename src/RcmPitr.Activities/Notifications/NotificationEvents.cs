using RcmPitr.Telemetry;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Activities.Notifications;

/// <summary>The events a run notifies, as stored in the outbox and sent in the webhook's <c>event</c> field.</summary>
public static class NotificationEvents
{
#pragma warning disable CS1591 // The names are their own documentation.
    public const string AwaitingApproval = NotifyEvents.AwaitingApproval;
    public const string Restored = NotifyEvents.Restored;
    public const string Failed = "failed";
    public const string Rejected = "rejected";
    public const string ApprovalTimedOut = "approval_timed_out";
    public const string Cancelled = "cancelled";
    public const string RolledBack = "rolled_back";
    public const string DrillReportReady = "drill_report_ready";
#pragma warning restore CS1591

    /// <summary>
    /// The event a final audit row announces, or null: the run's outcome as telemetry names it (<see cref="RunOutcomes"/>).
    /// A restore's success is announced by the Notify step (which names the live database and the approver), so
    /// <see cref="AuditEvents.PitrRestored"/> maps to none here; a dry run (the drill, quarterly or on demand) announces its
    /// report; snapshots are not announced.
    /// </summary>
    public static string? ForAudit(string auditEvent) => auditEvent switch
    {
        AuditEvents.PitrRestored or AuditEvents.PitrSnapshot => null,
        AuditEvents.PitrDryRun => DrillReportReady,
        _ => RunOutcomes.Of(auditEvent),
    };
}
