namespace RcmPitr.Scenarios.Tests.Activities;

/// <summary>Holds an activity inside its delivery until the test lets it go: the test knows the run is there, no sleeping.</summary>
public sealed class ActivityHold
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a delivery of the activity has started.</summary>
    public Task Reached => _reached.Task;

    /// <summary>Lets every held and later delivery go on.</summary>
    public void Release() => _released.TrySetResult();

    internal Task EnterAsync()
    {
        _reached.TrySetResult();
        return _released.Task;
    }
}
