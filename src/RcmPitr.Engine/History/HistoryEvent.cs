using System.Text.Json;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.History;

/// <summary>
/// One event of an orchestration's history (and of its inbox, before an episode consumes it). The history
/// is the source of truth: replaying it re-creates the orchestrator's state exactly.
/// </summary>
/// <param name="Deliveries">On TaskCompleted and TaskFailed: which delivery of the activity produced the outcome
/// (1 unless earlier deliveries were interrupted by a crash or a lost lease). Null on events recorded before it was kept.</param>
public sealed record HistoryEvent(
    string Kind,
    DateTime Timestamp,
    int? TaskId = null,
    string? Name = null,
    JsonElement? Payload = null,
    ActivityFailureDetails? Failure = null,
    DateTime? FireAt = null,
    int? Deliveries = null);

/// <summary>The kinds of <see cref="HistoryEvent"/>.</summary>
public static class HistoryEventKinds
{
#pragma warning disable CS1591 // The names are their own documentation.
    public const string ExecutionStarted = nameof(ExecutionStarted);
    public const string OrchestratorStarted = nameof(OrchestratorStarted);
    public const string TaskScheduled = nameof(TaskScheduled);
    public const string TaskCompleted = nameof(TaskCompleted);
    public const string TaskFailed = nameof(TaskFailed);
    public const string TimerCreated = nameof(TimerCreated);
    public const string TimerFired = nameof(TimerFired);
    public const string EventRaised = nameof(EventRaised);
    public const string ExecutionCompleted = nameof(ExecutionCompleted);
    public const string ExecutionFailed = nameof(ExecutionFailed);
    public const string ExecutionTerminated = nameof(ExecutionTerminated);
#pragma warning restore CS1591
}
