namespace RcmPitr.Workflow.Orchestration;

/// <summary>Compositions of the context's primitives, deterministic on every engine.</summary>
public static class OrchestrationContextExtensions
{
    /// <summary>
    /// Waits for an event or until <paramref name="timeout"/> passes, racing a durable timer against the
    /// wait as Durable's <c>WaitForExternalEvent(name, timeout)</c> does. Returns false on timeout.
    /// </summary>
    public static async Task<(bool Received, T? Value)> WaitForExternalEventAsync<T>(
        this IOrchestrationContext context, string eventName, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var timerCancellation = new CancellationTokenSource();
        using var eventCancellation = new CancellationTokenSource();
        var timer = context.CreateTimer(context.CurrentUtcDateTime.Add(timeout), timerCancellation.Token);
        var received = context.WaitForExternalEvent<T>(eventName, eventCancellation.Token);
        var winner = await Task.WhenAny(timer, received);
        if (winner == received)
        {
            timerCancellation.Cancel();
            return (true, await received);
        }

        eventCancellation.Cancel();
        return (false, default);
    }
}
