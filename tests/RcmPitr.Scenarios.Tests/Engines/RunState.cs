namespace RcmPitr.Scenarios.Tests.Engines;

/// <summary>An instance's runtime status, named the same on both engines.</summary>
public enum RunState
{
    Pending,
    Running,
    Completed,
    Failed,
    Terminated,
}
