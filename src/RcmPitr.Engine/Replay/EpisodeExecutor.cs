using System.Text.Json;
using Microsoft.Extensions.Logging;
using RcmPitr.Engine.History;
using RcmPitr.Engine.Hosting;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.Replay;

/// <summary>What one episode produced: events to append, work to schedule, and the instance's new state.</summary>
internal sealed record EpisodeResult(
    IReadOnlyList<HistoryEvent> NewEvents,
    IReadOnlyList<HistoryEvent> NewActivities,
    IReadOnlyList<HistoryEvent> NewTimers,
    string Status,
    JsonElement? Output,
    ActivityFailureDetails? Failure,
    JsonElement? CustomStatus,
    bool CustomStatusChanged);

/// <summary>
/// Runs one episode of an orchestration: replays its history (completed activities are never re-run:
/// their results come from history), applies the new messages, and collects what the orchestrator asked
/// for next. Pure: no I/O, no clock — the caller passes "now" and the instance's last custom status.
/// </summary>
/// <remarks>
/// The code diverges from its history when it asks for another action than the one recorded at the same
/// position, or when, once the whole history is replayed, it has not asked for every recorded action (it
/// completed early or waits for something else). Either way the instance fails, and its last custom status
/// says what happened and what a person must do (<see cref="DivergedStatus"/>).
/// </remarks>
internal sealed partial class EpisodeExecutor(ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<EpisodeExecutor>();

    public EpisodeResult Run(
        OrchestratorRegistration orchestrator, string instanceId, IReadOnlyList<HistoryEvent> history, IReadOnlyList<HistoryEvent> messages, DateTime now,
        JsonElement? lastCustomStatus = null)
    {
        var recorded = history
            .Select((e, index) => new RecordedAction(index, e))
            .Where(r => r.Event.Kind is HistoryEventKinds.TaskScheduled or HistoryEventKinds.TimerCreated)
            .ToDictionary(r => r.Event.TaskId!.Value);
        var context = new ReplayContext(instanceId, recorded, loggers) { IsReplaying = true };
        var scheduler = new EpisodeScheduler();
        var started = history.Concat(messages).FirstOrDefault(e => e.Kind == HistoryEventKinds.ExecutionStarted)
                      ?? throw new InvalidOperationException($"Instance {instanceId} has no ExecutionStarted event.");
        Task<object?>? orchestration = null;

        void Feed(HistoryEvent e)
        {
            context.Apply(e);
            if (e.Kind == HistoryEventKinds.OrchestratorStarted && orchestration is null)
            {
                Task.Factory.StartNew(() => orchestration = Start(orchestrator, context, started.Payload), CancellationToken.None, TaskCreationOptions.None, scheduler);
            }

            scheduler.Pump();
        }

        foreach (var e in history)
        {
            Feed(e);
        }

        var nonDeterminism = context.NonDeterminism ?? Unrequested(instanceId, recorded, context.RequestedActions, orchestration);
        if (nonDeterminism is not null)
        {
            return Diverge(nonDeterminism, messages, now, lastCustomStatus);
        }

        context.IsReplaying = false;
        var newEvents = messages.Where(m => m.Kind == HistoryEventKinds.ExecutionStarted).ToList();
        var episodeStart = new HistoryEvent(HistoryEventKinds.OrchestratorStarted, now);
        newEvents.Add(episodeStart);
        Feed(episodeStart);
        foreach (var message in messages.Where(m => m.Kind != HistoryEventKinds.ExecutionStarted))
        {
            if (orchestration is { IsCompleted: true })
            {
                break;
            }

            newEvents.Add(message);
            Feed(message);
        }

        return context.NonDeterminism is { } late ? Diverge(late, messages, now, lastCustomStatus) : Conclude(context, orchestration, newEvents, now);
    }

    /// <summary>The divergence when the replayed code has not asked for every action its history recorded, else null.</summary>
    private static NonDeterministicOrchestrationException? Unrequested(
        string instanceId, IReadOnlyDictionary<int, RecordedAction> recorded, int requested, Task<object?>? orchestration)
    {
        if (!recorded.TryGetValue(requested, out var missing))
        {
            return null;
        }

        var now = orchestration switch
        {
            { IsCompletedSuccessfully: true } => "returned",
            { IsCompleted: true } => "failed",
            _ => "waits for something else",
        };
        return new NonDeterministicOrchestrationException(
            $"Instance {instanceId}: history event #{missing.Index} recorded {RecordedAction.Describe(missing.Event.Kind, missing.Event.Name)} (task {requested}), " +
            $"but the orchestrator code no longer asks for it: after replaying the whole history it {now} having asked for {requested} of the {recorded.Count} recorded actions. " +
            "The orchestrator code changed under this instance, or is not deterministic.");
    }

    /// <summary>
    /// Ends the instance as failed keeping nothing the divergent code asked for or set: the history gets the
    /// messages this episode received and the failure, and the last custom status is kept with what happened and
    /// what to do merged in.
    /// </summary>
    private EpisodeResult Diverge(NonDeterministicOrchestrationException nonDeterminism, IReadOnlyList<HistoryEvent> messages, DateTime now, JsonElement? lastCustomStatus)
    {
        LogDiverged(_logger, nonDeterminism.Message);
        var failure = ActivityFailureDetails.FromException(nonDeterminism);
        var newEvents = messages.Where(m => m.Kind == HistoryEventKinds.ExecutionStarted).ToList();
        newEvents.Add(new HistoryEvent(HistoryEventKinds.OrchestratorStarted, now));
        newEvents.AddRange(messages.Where(m => m.Kind != HistoryEventKinds.ExecutionStarted));
        newEvents.Add(new HistoryEvent(HistoryEventKinds.ExecutionFailed, now, Failure: failure));
        var status = DivergedStatus.Merge(lastCustomStatus, nonDeterminism.Message);
        return new EpisodeResult(newEvents, [], [], "Failed", null, failure, status, CustomStatusChanged: status is not null);
    }

    private static Task<object?> Start(OrchestratorRegistration orchestrator, ReplayContext context, JsonElement? input)
    {
        try
        {
            return orchestrator.Invoke(context, input);
        }
        catch (Exception e)
        {
            return Task.FromException<object?>(e);
        }
    }

    private static EpisodeResult Conclude(ReplayContext context, Task<object?>? orchestration, List<HistoryEvent> newEvents, DateTime now)
    {
        newEvents.AddRange(context.NewActions);
        var activities = context.NewActions.Where(a => a.Kind == HistoryEventKinds.TaskScheduled).ToList();
        var timers = context.NewActions.Where(a => a.Kind == HistoryEventKinds.TimerCreated).ToList();
        switch (orchestration)
        {
            case { IsCompletedSuccessfully: true }:
                var output = EngineJson.ToElement(orchestration.Result);
                newEvents.Add(new HistoryEvent(HistoryEventKinds.ExecutionCompleted, now, Payload: output));
                return new EpisodeResult(newEvents, [], [], "Completed", output, null, context.CustomStatus, context.CustomStatusChanged);
            case { IsFaulted: true } or { IsCanceled: true }:
                var error = orchestration.Exception?.InnerException ?? new TaskCanceledException("The orchestrator was cancelled.");
                var failure = ActivityFailureDetails.FromException(error);
                newEvents.Add(new HistoryEvent(HistoryEventKinds.ExecutionFailed, now, Failure: failure));
                return new EpisodeResult(newEvents, [], [], "Failed", null, failure, context.CustomStatus, context.CustomStatusChanged);
            default:
                return new EpisodeResult(newEvents, activities, timers, "Running", null, null, context.CustomStatus, context.CustomStatusChanged);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Orchestration failed: its code no longer replays its history; an operator must finish or undo it by hand. {Divergence}")]
    private static partial void LogDiverged(ILogger logger, string divergence);
}
