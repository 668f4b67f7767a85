namespace RcmPitr.Engine.Storage;

/// <summary>
/// One activity call of an instance and its deliveries. Activities are delivered at least once: a delivery
/// interrupted by a crash or a lost lease is delivered again, which this makes visible ("attempt 2 — the previous
/// delivery was interrupted") instead of a step that merely looks slow.
/// </summary>
/// <param name="TaskId">The call's position among the instance's actions (as in its history).</param>
/// <param name="Deliveries">How many times it was delivered so far (for a finished call: the delivery that produced the outcome;
/// for an abandoned one only what is still known, 0 once its work item is gone).</param>
/// <param name="ClaimedAt">Running: since when the current delivery runs; Interrupted: when the last delivery started.</param>
/// <param name="LeasedBy">Running: the activity loop (<c>&lt;process&gt;/activity-&lt;n&gt;</c>) that runs it; Interrupted: the last one.</param>
/// <param name="LeaseExpiresAt">Running: when the lease lapses unless renewed; Interrupted: when it lapsed.</param>
/// <param name="FinishedAt">Completed or Failed: when the outcome was recorded.</param>
public sealed record ActivityDeliveryStatus(
    int TaskId,
    string Name,
    ActivityDeliveryState State,
    int Deliveries,
    DateTime ScheduledAt,
    DateTime? ClaimedAt = null,
    string? LeasedBy = null,
    DateTime? LeaseExpiresAt = null,
    DateTime? FinishedAt = null)
{
    /// <summary>Deliveries that ended without a result: their process died or their lease was lost.</summary>
    public int InterruptedDeliveries => State switch
    {
        ActivityDeliveryState.Scheduled => 0,
        ActivityDeliveryState.Interrupted or ActivityDeliveryState.Abandoned => Deliveries,
        _ => Math.Max(0, Deliveries - 1),
    };
}
