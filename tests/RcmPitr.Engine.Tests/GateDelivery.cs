namespace RcmPitr.Engine.Tests;

/// <summary>One delivery of a <see cref="GatedActivity"/>: when it started, whether its token fired, and the gate that lets it return.</summary>
public sealed class GateDelivery
{
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
