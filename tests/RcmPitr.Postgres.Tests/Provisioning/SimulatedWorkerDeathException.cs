namespace RcmPitr.Postgres.Tests.Provisioning;

/// <summary>What an activity's caller sees when the worker running it dies: the call fails, whatever was done stays done.</summary>
public sealed class SimulatedWorkerDeathException(string when) : Exception($"simulated worker death {when}");
