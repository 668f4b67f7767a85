namespace RcmPitr.Telemetry;

/// <summary>
/// What the host running an activity knows about this execution and the activity itself does not: the orchestration
/// instance, the engine's delivery count, and how to read when the run was created. Set by the host around the
/// activity (it flows with the async call); absent when nobody set it, e.g. in a test calling an activity directly.
/// </summary>
/// <param name="InstanceId">The orchestration instance the activity runs for.</param>
/// <param name="Delivery">The delivery of this activity call (1 = first), when the engine counts them.</param>
/// <param name="RunCreatedAt">Reads the run's creation time (UTC), or null when it cannot be known.</param>
public sealed record StepInvocation(string InstanceId, int? Delivery = null, Func<CancellationToken, Task<DateTimeOffset?>>? RunCreatedAt = null)
{
    private static readonly AsyncLocal<StepInvocation?> Ambient = new();

    /// <summary>The execution in progress on this async flow, or null.</summary>
    public static StepInvocation? Current => Ambient.Value;

    /// <summary>Makes <paramref name="invocation"/> current until the returned scope is disposed.</summary>
    public static IDisposable Begin(StepInvocation invocation)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var scope = new Scope(Ambient.Value);
        Ambient.Value = invocation;
        return scope;
    }

    private sealed class Scope(StepInvocation? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}
