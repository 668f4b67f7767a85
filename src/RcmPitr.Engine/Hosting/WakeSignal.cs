namespace RcmPitr.Engine.Hosting;

/// <summary>An auto-reset signal a worker loop can await with a timeout.</summary>
internal sealed class WakeSignal
{
    private TaskCompletionSource _source = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();

    public void Set()
    {
        lock (_gate)
        {
            _source.TrySetResult();
        }
    }

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task task;
        lock (_gate)
        {
            task = _source.Task;
        }

        await Task.WhenAny(task, Task.Delay(timeout, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_source.Task.IsCompleted)
            {
                _source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }
}
