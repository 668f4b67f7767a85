namespace RcmPitr.Postgres.Movers;

/// <summary>
/// A transfer made no progress for the configured stall timeout and was stopped. Not a refusal: the step is
/// retried from the start (its partial database is dropped first), since a blocked session or a dropped
/// connection may well be gone by then.
/// </summary>
public sealed class TransferStalledException(string message, Exception? inner = null) : TimeoutException(message, inner);
