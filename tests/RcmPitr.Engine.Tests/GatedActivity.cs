namespace RcmPitr.Engine.Tests;

/// <summary>
/// An activity whose deliveries a test drives: each delivery announces that it started, records whether its
/// cancellation token fired, and returns "&lt;input&gt;: delivery N" only when the test releases it. It ignores
/// its token on purpose: an activity that keeps going after its lease is gone is the case the engine must fence.
/// Disposing releases every delivery, present and future, so engines can stop at the end of a test.
/// </summary>
public sealed class GatedActivity : IDisposable
{
    private readonly Dictionary<int, GateDelivery> _deliveries = [];
    private readonly Lock _gate = new();
    private bool _disposed;
    private int _count;

    /// <summary>How many deliveries have started.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Delivery <paramref name="n"/> (1-based), whether or not it has started yet.</summary>
    public GateDelivery this[int n]
    {
        get
        {
            lock (_gate)
            {
                if (!_deliveries.TryGetValue(n, out var delivery))
                {
                    _deliveries[n] = delivery = new GateDelivery();
                    if (_disposed)
                    {
                        delivery.Release.TrySetResult();
                    }
                }

                return delivery;
            }
        }
    }

    public async Task<string> RunAsync(string input, CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref _count);
        var delivery = this[n];
        using var registration = cancellationToken.Register(() => delivery.Cancelled.TrySetResult());
        delivery.Started.TrySetResult();
        await delivery.Release.Task;
        return $"{input}: delivery {n}";
    }

    public void Dispose() => ReleaseAll();

    /// <summary>Lets every delivery return, those not started yet included.</summary>
    public void ReleaseAll()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var delivery in _deliveries.Values)
            {
                delivery.Release.TrySetResult();
            }
        }
    }
}
