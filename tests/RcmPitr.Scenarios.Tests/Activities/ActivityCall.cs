namespace RcmPitr.Scenarios.Tests.Activities;

/// <summary>One delivery of a fake activity: which, the how-manieth of that name, when it started (wall clock), its input, and the failure it was scripted to raise.</summary>
public sealed record ActivityCall(string Name, int Attempt, DateTime At, object Input, string? Failure)
{
    /// <summary>The input as its contract type.</summary>
    public T InputAs<T>() => Input is T typed ? typed : throw new InvalidCastException($"{Name} got a {Input.GetType().Name}, not a {typeof(T).Name}.");
}
