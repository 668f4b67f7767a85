namespace RcmPitr.Postgres.ControlPlane;

/// <summary>A message claimed for delivery to one target.</summary>
/// <param name="Attempts">Attempts made before this one.</param>
public sealed record OutboxMessage(string RunId, string Event, string Target, string Tenant, string Subject, string Body, int Attempts, DateTimeOffset CreatedAt);
