namespace RcmPitr.Engine.Storage;

/// <summary>Where one activity call of an instance stands.</summary>
public enum ActivityDeliveryState
{
    /// <summary>Waiting for its first delivery.</summary>
    Scheduled,

    /// <summary>A delivery holds a live lease and is running.</summary>
    Running,

    /// <summary>A delivery ended without a result (its process died, or it lost its lease); it will be delivered again.</summary>
    Interrupted,

    /// <summary>A delivery returned a result, recorded for the instance.</summary>
    Completed,

    /// <summary>A delivery threw; the failure is recorded for the instance (which may retry with a new call).</summary>
    Failed,

    /// <summary>The instance ended before any delivery produced a result; it will not be delivered again.</summary>
    Abandoned,
}
