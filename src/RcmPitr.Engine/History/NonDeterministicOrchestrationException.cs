namespace RcmPitr.Engine.History;

/// <summary>The orchestrator's code asked for something other than what its history recorded: it is not deterministic.</summary>
public sealed class NonDeterministicOrchestrationException(string message) : Exception(message);
