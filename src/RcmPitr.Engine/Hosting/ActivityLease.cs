using Microsoft.Extensions.Logging;
using RcmPitr.Engine.Storage;

namespace RcmPitr.Engine.Hosting;

/// <summary>
/// The lease of one claimed activity, renewed while the activity runs. The database holds the lease on its own
/// clock; this process trusts it only until one lease length after the last claim or renewal it sent that the
/// database confirmed, which is never later than the database's expiry. Renewal failures are retried until
/// then; when the lease is not confirmed in time, or another claim holds it, <see cref="Token"/> fires and the
/// activity's result is not recorded.
/// </summary>
internal sealed partial class ActivityLease : IAsyncDisposable
{
    private static readonly TimeSpan ShortestRetry = TimeSpan.FromMilliseconds(50);

    private readonly EngineStore _store;
    private readonly ActivityWorkItem _item;
    private readonly TimeSpan _length;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _expiry;
    private readonly CancellationTokenRegistration _onExpiry;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _activity;
    private readonly CancellationTokenSource _renewing = new();
    private readonly Lock _gate = new();
    private long _confirmedAt;
    private string? _lostReason;
    private Task _renewal = Task.CompletedTask;

    /// <param name="claimedAt">The <see cref="TimeProvider.GetTimestamp"/> taken before the claim was sent.</param>
    public ActivityLease(EngineStore store, ActivityWorkItem item, TimeSpan length, long claimedAt, TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        _store = store;
        _item = item;
        _length = length;
        _time = time;
        _logger = logger;
        _confirmedAt = claimedAt;
        _expiry = new CancellationTokenSource(Positive(length - time.GetElapsedTime(claimedAt)), time);
        _onExpiry = _expiry.Token.Register(() => MarkLost("it could not be renewed before it expired"));
        _activity = CancellationTokenSource.CreateLinkedTokenSource(stopping, _lost.Token);
    }

    /// <summary>The activity's token: fires when the engine stops or the lease is lost.</summary>
    public CancellationToken Token => _activity.Token;

    /// <summary>True once the lease is lost; nothing the activity returns may be recorded then.</summary>
    public bool IsLost => Volatile.Read(ref _lostReason) is not null;

    /// <summary>Why the lease was lost, or null.</summary>
    public string? LostReason => Volatile.Read(ref _lostReason);

    /// <summary>How long the lease is still certainly held (zero or less when it may have lapsed).</summary>
    public TimeSpan Remaining
    {
        get
        {
            lock (_gate)
            {
                return _length - _time.GetElapsedTime(_confirmedAt);
            }
        }
    }

    /// <summary>Starts renewing every third of the lease length.</summary>
    public void StartRenewing() => _renewal = RenewAsync(_renewing.Token);

    /// <summary>Stops renewing (before the result is recorded, so no renewal races the completion).</summary>
    public async Task StopRenewingAsync()
    {
        await _renewing.CancelAsync();
        try
        {
            await _renewal;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopRenewingAsync();
        await _onExpiry.DisposeAsync();
        _activity.Dispose();
        _lost.Dispose();
        _expiry.Dispose();
        _renewing.Dispose();
    }

    private async Task RenewAsync(CancellationToken renewing)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(renewing, _lost.Token);
        var every = _length / 3;
        var retry = _length / 10 > ShortestRetry ? _length / 10 : ShortestRetry;
        var wait = every;
        while (true)
        {
            try
            {
                await Task.Delay(wait, _time, either.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var sentAt = _time.GetTimestamp();
            try
            {
                if (!await _store.RenewLeaseAsync(_item.Id, _item.LeaseId, _length, either.Token))
                {
                    MarkLost("another claim holds it, or it lapsed");
                    return;
                }

                Confirm(sentAt);
                wait = every;
            }
            catch (OperationCanceledException) when (either.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Any failure to reach the database is retried until the lease would expire; the expiry then cancels.
                LogRenewalFailed(_logger, _item.Name, _item.InstanceId, _item.TaskId, Remaining, e);
                wait = retry;
            }
        }
    }

    private void Confirm(long sentAt)
    {
        lock (_gate)
        {
            if (_lostReason is not null)
            {
                return;
            }

            _confirmedAt = sentAt;
            _expiry.CancelAfter(Positive(_length - _time.GetElapsedTime(sentAt)));
        }
    }

    private void MarkLost(string reason)
    {
        lock (_gate)
        {
            if (_lostReason is not null)
            {
                return;
            }

            _lostReason = reason;
        }

        LogLeaseLost(_logger, _item.Name, _item.InstanceId, _item.TaskId, _item.Deliveries, reason);
        _lost.Cancel();
    }

    private static TimeSpan Positive(TimeSpan span) => span > TimeSpan.Zero ? span : TimeSpan.Zero;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the lease on activity {Activity} of {InstanceId} (task {TaskId}); {Remaining} left, retrying")]
    private static partial void LogRenewalFailed(ILogger logger, string activity, string instanceId, int taskId, TimeSpan remaining, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the lease on activity {Activity} of {InstanceId} (task {TaskId}, delivery {Delivery}): {Reason}; the activity is cancelled")]
    private static partial void LogLeaseLost(ILogger logger, string activity, string instanceId, int taskId, int delivery, string reason);
}
