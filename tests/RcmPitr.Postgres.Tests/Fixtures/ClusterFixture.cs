using RcmPitr.Testing;

namespace RcmPitr.Postgres.Tests.Fixtures;

/// <summary>The assembly's "live" and "pitr" clusters; tests isolate themselves through <see cref="Scenario"/>.</summary>
public sealed class ClusterFixture : TwoClusterFixture;
