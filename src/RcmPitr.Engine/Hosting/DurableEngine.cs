using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Engine.History;
using RcmPitr.Engine.Replay;
using RcmPitr.Engine.Storage;
using RcmPitr.Telemetry;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.Hosting;

/// <summary>
/// The embedded durable engine: one orchestration loop (episodes), <see cref="EngineOptions.MaxConcurrentActivities"/>
/// activity loops (leased, at-least-once), and a LISTEN connection that wakes them when work arrives. State
/// lives in PostgreSQL, so a process can die at any point and another (or the same, restarted) carries on.
/// Each activity loop claims under its own id, and each claim carries its own lease id: a result is recorded
/// only by the claim that still holds the lease.
/// </summary>
public sealed partial class DurableEngine : IAsyncDisposable
{
    private readonly EngineStore _store;
    private readonly DurableRegistry _registry;
    private readonly EngineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly EpisodeExecutor _executor;
    private readonly WakeSignal _orchestrationSignal = new();
    private readonly WakeSignal _activitySignal = new();
    private CancellationTokenSource? _stopping;
    private List<Task> _loops = [];

    /// <summary>Creates the engine; call <see cref="StartAsync"/> to run it.</summary>
    public DurableEngine(NpgsqlDataSource dataSource, DurableRegistry registry, EngineOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        _store = new EngineStore(dataSource);
        _registry = registry;
        _options = options;
        _time = time;
        _logger = loggers.CreateLogger<DurableEngine>();
        _executor = new EpisodeExecutor(loggers);
        Client = new EngineClient(_store, time, registry);
    }

    /// <summary>Starts, queries and signals instances.</summary>
    public EngineClient Client { get; }

    /// <summary>Migrates the engine's schema and starts the worker loops.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _store.MigrateAsync(cancellationToken);
        _stopping = new CancellationTokenSource();
        var stop = _stopping.Token;
        _loops = [Task.Run(() => ListenAsync(stop), CancellationToken.None), Task.Run(() => OrchestrationLoopAsync(stop), CancellationToken.None)];
        for (var i = 1; i <= _options.MaxConcurrentActivities; i++)
        {
            var loopId = $"{_options.WorkerId}/activity-{i}";
            _loops.Add(Task.Run(() => ActivityLoopAsync(loopId, stop), CancellationToken.None));
        }
    }

    /// <summary>Stops the loops; running activities are cancelled and will be re-delivered after their lease expires.</summary>
    public async Task StopAsync()
    {
        if (_stopping is null)
        {
            return;
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_loops.Select(async loop =>
        {
            try
            {
                await loop;
            }
            catch (OperationCanceledException)
            {
            }
        }));
        _stopping.Dispose();
        _stopping = null;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task OrchestrationLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var worked = false;
            try
            {
                worked = await _store.TryRunEpisodeAsync(_executor, _registry, stop);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                LogLoopFailed(_logger, "orchestration", e);
            }

            if (!worked)
            {
                await _orchestrationSignal.WaitAsync(await SleepAsync(stop), stop);
            }
        }
    }

    private async Task<TimeSpan> SleepAsync(CancellationToken stop)
    {
        try
        {
            if (await _store.NextMessageDelayAsync(stop) is { } wait)
            {
                return wait < TimeSpan.Zero ? TimeSpan.FromMilliseconds(50) : (wait < _options.PollInterval ? wait : _options.PollInterval);
            }
        }
        catch (NpgsqlException e)
        {
            LogLoopFailed(_logger, "timer look-up", e);
        }

        return _options.PollInterval;
    }

    private async Task ActivityLoopAsync(string loopId, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            ActivityWorkItem? item = null;
            try
            {
                var claimedAt = _time.GetTimestamp();
                item = await _store.TryClaimActivityAsync(loopId, _registry.OrchestratorNames, _options.ActivityLease, stop);
                if (item is not null)
                {
                    await RunActivityAsync(item, claimedAt, stop);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                LogLoopFailed(_logger, "activity", e);
            }

            if (item is null)
            {
                await _activitySignal.WaitAsync(_options.PollInterval, stop);
            }
        }
    }

    private async Task RunActivityAsync(ActivityWorkItem item, long claimedAt, CancellationToken stop)
    {
        await using var lease = new ActivityLease(_store, item, _options.ActivityLease, claimedAt, _time, _logger, stop);
        lease.StartRenewing();
        HistoryEvent outcome;
        LogActivityStarting(_logger, item.Name, item.InstanceId, item.TaskId, item.Deliveries);
        try
        {
            var registration = _registry.Activity(item.Name) ?? throw new InvalidOperationException($"No activity named '{item.Name}' is registered.");
            object? result;
            using (StepInvocation.Begin(new StepInvocation(item.InstanceId, item.Deliveries, ct => RunCreatedAtAsync(item.InstanceId, ct))))
            {
                result = await registration.Invoke(item.Input, lease.Token);
            }

            outcome = new HistoryEvent(HistoryEventKinds.TaskCompleted, _time.GetUtcNow().UtcDateTime, item.TaskId, item.Name, EngineJson.ToElement(result));
        }
        catch (Exception) when (lease.Token.IsCancellationRequested)
        {
            // The lease is gone, or the engine is stopping: what the activity did is not its outcome. The item
            // is delivered again once its lease lapses.
            await lease.StopRenewingAsync();
            LogResultDiscarded(_logger, item.Name, item.InstanceId, item.TaskId, item.Deliveries, lease.LostReason ?? "the engine is stopping");
            return;
        }
        catch (Exception e)
        {
            outcome = new HistoryEvent(HistoryEventKinds.TaskFailed, _time.GetUtcNow().UtcDateTime, item.TaskId, item.Name, Failure: ActivityFailureDetails.FromException(e));
            LogActivityFailed(_logger, item.Name, item.InstanceId, outcome.Failure!.ErrorMessage);
        }

        await lease.StopRenewingAsync();
        if (lease.LostReason is { } reason)
        {
            LogResultDiscarded(_logger, item.Name, item.InstanceId, item.TaskId, item.Deliveries, reason);
            return;
        }

        await RecordAsync(item, lease, outcome, stop);
    }

    private async Task<DateTimeOffset?> RunCreatedAtAsync(string instanceId, CancellationToken cancellationToken) =>
        await _store.GetInstanceAsync(instanceId, cancellationToken) is { } instance ? new DateTimeOffset(DateTime.SpecifyKind(instance.CreatedTime, DateTimeKind.Utc)) : null;

    /// <summary>Records the outcome, retrying failures to reach the database while the lease still certainly holds.</summary>
    private async Task RecordAsync(ActivityWorkItem item, ActivityLease lease, HistoryEvent outcome, CancellationToken stop)
    {
        var retry = _options.ActivityLease / 10;
        while (lease.Remaining is var remaining && remaining > TimeSpan.Zero)
        {
            using var bound = new CancellationTokenSource(remaining, _time);
            try
            {
                if (!await _store.CompleteActivityAsync(item, outcome, bound.Token))
                {
                    LogResultDiscarded(_logger, item.Name, item.InstanceId, item.TaskId, item.Deliveries, "another claim holds the item, or its lease lapsed");
                }

                return;
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                LogRecordFailed(_logger, item.Name, item.InstanceId, item.TaskId, e);
            }

            var left = lease.Remaining;
            await Task.Delay(left <= TimeSpan.Zero ? TimeSpan.Zero : (retry < left ? retry : left), _time, stop);
        }

        LogResultDiscarded(_logger, item.Name, item.InstanceId, item.TaskId, item.Deliveries, "its lease expired before the result could be recorded");
    }

    private async Task ListenAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _store.DataSource.OpenConnectionAsync(stop);
                connection.Notification += (_, _) =>
                {
                    _orchestrationSignal.Set();
                    _activitySignal.Set();
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {EngineStore.WakeChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stop);
                }

                while (!stop.IsCancellationRequested)
                {
                    await connection.WaitAsync(stop);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                LogLoopFailed(_logger, "listener", e);
                await Task.Delay(_options.PollInterval, stop);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Engine {Loop} loop failed; retrying")]
    private static partial void LogLoopFailed(ILogger logger, string loop, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Running activity {Activity} of {InstanceId} (task {TaskId}, delivery {Delivery})")]
    private static partial void LogActivityStarting(ILogger logger, string activity, string instanceId, int taskId, int delivery);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Activity {Activity} of {InstanceId} failed: {Reason}")]
    private static partial void LogActivityFailed(ILogger logger, string activity, string instanceId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Result of activity {Activity} of {InstanceId} (task {TaskId}, delivery {Delivery}) discarded: {Reason}")]
    private static partial void LogResultDiscarded(ILogger logger, string activity, string instanceId, int taskId, int delivery, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the result of activity {Activity} of {InstanceId} (task {TaskId}); retrying while its lease holds")]
    private static partial void LogRecordFailed(ILogger logger, string activity, string instanceId, int taskId, Exception exception);
}
