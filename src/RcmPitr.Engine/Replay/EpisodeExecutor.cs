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
/// for next. Pure: no I/O, no clock — the caller passes "now".
/// </summary>
internal sealed class EpisodeExecutor(ILoggerFactory loggers)
{
    public EpisodeResult Run(OrchestratorRegistration orchestrator, string instanceId, IReadOnlyList<HistoryEvent> history, IReadOnlyList<HistoryEvent> messages, DateTime now)
    {
        var recorded = history
            .Where(e => e.Kind is HistoryEventKinds.TaskScheduled or HistoryEventKinds.TimerCreated)
            .ToDictionary(e => e.TaskId!.Value);
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

        return Conclude(context, orchestration, newEvents, now, context.NonDeterminism);
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

    private static EpisodeResult Conclude(ReplayContext context, Task<object?>? orchestration, List<HistoryEvent> newEvents, DateTime now, NonDeterministicOrchestrationException? nonDeterminism)
    {
        if (nonDeterminism is not null)
        {
            var failure = ActivityFailureDetails.FromException(nonDeterminism);
            newEvents.Add(new HistoryEvent(HistoryEventKinds.ExecutionFailed, now, Failure: failure));
            return new EpisodeResult(newEvents, [], [], "Failed", null, failure, context.CustomStatus, context.CustomStatusChanged);
        }

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
}
