using System.Runtime.ExceptionServices;

namespace RcmPitr.Postgres.Movers;

/// <summary>
/// The workers of a streaming move: copies (in the order added: largest first) and builds (indexes and constraints of
/// tables already copied, biggest first; preferred, since they are the long pole). A job may add jobs, and
/// <see cref="Track"/> keeps the pool open for work that is not a job (a plan still being made). The pool ends when nothing
/// is queued, running or tracked. The first failure stops every worker and is rethrown.
/// </summary>
internal sealed class WorkPool<TWorker>(CancellationTokenSource abort)
    where TWorker : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Queue<Func<TWorker, Task>> _copies = new();
    private readonly PriorityQueue<Func<TWorker, Task>, long> _builds = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private ExceptionDispatchInfo? _failure;

    public void AddCopy(Func<TWorker, Task> copy)
    {
        lock (_gate)
        {
            _copies.Enqueue(copy);
            Signal();
        }
    }

    public void AddBuild(long cost, Func<TWorker, Task> build)
    {
        lock (_gate)
        {
            _builds.Enqueue(build, -cost);
            Signal();
        }
    }

    /// <summary>Keeps the pool open until <paramref name="work"/> ends; its failure fails the pool.</summary>
    public void Track(Task work)
    {
        ArgumentNullException.ThrowIfNull(work);
        lock (_gate)
        {
            _running++;
        }

        _ = work.ContinueWith(
            done =>
            {
                if (done.Exception is { } e)
                {
                    Fail(e.InnerException ?? e);
                }

                lock (_gate)
                {
                    _running--;
                    Signal();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public async Task RunAsync(int workers, Func<TWorker> worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, workers)).Select(_ => WorkerAsync(worker())));
        _failure?.Throw();
        abort.Token.ThrowIfCancellationRequested();
    }

    private async Task WorkerAsync(TWorker worker)
    {
        await using var owned = worker;
        while (!abort.IsCancellationRequested)
        {
            Func<TWorker, Task>? job = null;
            Task changed;
            lock (_gate)
            {
                if (_builds.TryDequeue(out job, out _) || _copies.TryDequeue(out job))
                {
                    _running++;
                }
                else if (_running == 0)
                {
                    Signal();
                    return;
                }

                changed = _changed.Task;
            }

            if (job is null)
            {
                try
                {
                    await changed.WaitAsync(abort.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            try
            {
                await job(worker);
            }
            catch (Exception e)
            {
                Fail(e);
                return;
            }
            finally
            {
                lock (_gate)
                {
                    _running--;
                    Signal();
                }
            }
        }
    }

    private void Fail(Exception e)
    {
        lock (_gate)
        {
            _failure ??= e is OperationCanceledException && abort.IsCancellationRequested ? null : ExceptionDispatchInfo.Capture(e);
        }

        abort.Cancel();
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
