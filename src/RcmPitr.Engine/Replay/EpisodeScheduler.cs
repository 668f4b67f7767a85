namespace RcmPitr.Engine.Replay;

/// <summary>
/// A single-threaded task scheduler for one episode. The orchestrator starts on it, so every await in the
/// orchestrator posts its continuation here; <see cref="Pump"/> runs them on the caller's thread until
/// nothing is left. The orchestrator therefore only ever runs between history events, one step at a time,
/// and replays identically.
/// </summary>
internal sealed class EpisodeScheduler : TaskScheduler
{
    private readonly Queue<Task> _queue = new();

    public override int MaximumConcurrencyLevel => 1;

    public void Pump()
    {
        while (_queue.TryDequeue(out var task))
        {
            TryExecuteTask(task);
        }
    }

    protected override void QueueTask(Task task) => _queue.Enqueue(task);

    // Never inline: continuations run in queue order inside Pump, which keeps the order deterministic.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();
}
