using Microsoft.Extensions.Logging;
using Npgsql;
using RcmPitr.Engine.History;
using RcmPitr.Engine.Replay;
using RcmPitr.Engine.Storage;
using RcmPitr.Workflow.Orchestration;

namespace RcmPitr.Engine.Hosting;

/// <summary>
/// The embedded durable engine: one orchestration loop (episodes), <see cref="EngineOptions.MaxConcurrentActivities"/>
/// activity loops (leased, at-least-once), and a LISTEN connection that wakes them when work arrives. State
/// lives in PostgreSQL, so a process can die at any point and another (or the same, restarted) carries on.
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
        Client = new EngineClient(_store, time);
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
        for (var i = 0; i < _options.MaxConcurrentActivities; i++)
        {
            _loops.Add(Task.Run(() => ActivityLoopAsync(stop), CancellationToken.None));
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

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    private async Task OrchestrationLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var worked = false;
            try
            {
                worked = await _store.TryRunEpisodeAsync(_executor, _registry, Now, stop);
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
            var due = await _store.NextMessageDueAsync(stop);
            if (due is { } next)
            {
                var wait = next - Now;
                return wait < TimeSpan.Zero ? TimeSpan.FromMilliseconds(50) : (wait < _options.PollInterval ? wait : _options.PollInterval);
            }
        }
        catch (NpgsqlException e)
        {
            LogLoopFailed(_logger, "timer look-up", e);
        }

        return _options.PollInterval;
    }

    private async Task ActivityLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            ActivityWorkItem? item = null;
            try
            {
                item = await _store.TryClaimActivityAsync(_options.WorkerId, _options.ActivityLease, Now, stop);
                if (item is not null)
                {
                    await RunActivityAsync(item, stop);
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

    private async Task RunActivityAsync(ActivityWorkItem item, CancellationToken stop)
    {
        using var leaseLost = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var renewal = RenewLeaseAsync(item, leaseLost);
        HistoryEvent outcome;
        LogActivityStarting(_logger, item.Name, item.InstanceId, item.TaskId, item.Deliveries);
        try
        {
            var registration = _registry.Activity(item.Name) ?? throw new InvalidOperationException($"No activity named '{item.Name}' is registered.");
            var result = await registration.Invoke(item.Input, leaseLost.Token);
            outcome = new HistoryEvent(HistoryEventKinds.TaskCompleted, Now, item.TaskId, item.Name, EngineJson.ToElement(result));
        }
        catch (OperationCanceledException) when (leaseLost.IsCancellationRequested)
        {
            // Stopping, or the lease went to another worker: leave the item for whoever holds it.
            await leaseLost.CancelAsync();
            await IgnoreCancellation(renewal);
            throw;
        }
        catch (Exception e)
        {
            outcome = new HistoryEvent(HistoryEventKinds.TaskFailed, Now, item.TaskId, item.Name, Failure: ActivityFailureDetails.FromException(e));
            LogActivityFailed(_logger, item.Name, item.InstanceId, e.Message);
        }

        await leaseLost.CancelAsync();
        await IgnoreCancellation(renewal);
        if (!await _store.CompleteActivityAsync(item, _options.WorkerId, outcome, Now, stop))
        {
            LogLeaseLost(_logger, item.Name, item.InstanceId);
        }
    }

    private async Task RenewLeaseAsync(ActivityWorkItem item, CancellationTokenSource leaseLost)
    {
        var every = _options.ActivityLease / 3;
        while (!leaseLost.IsCancellationRequested)
        {
            await Task.Delay(every, leaseLost.Token);
            if (!await _store.RenewLeaseAsync(item.Id, _options.WorkerId, Now.Add(_options.ActivityLease), leaseLost.Token))
            {
                LogLeaseLost(_logger, item.Name, item.InstanceId);
                await leaseLost.CancelAsync();
            }
        }
    }

    private static async Task IgnoreCancellation(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the lease on activity {Activity} of {InstanceId}; its result is discarded")]
    private static partial void LogLeaseLost(ILogger logger, string activity, string instanceId);
}
