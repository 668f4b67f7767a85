using RcmPitr.Testing;

namespace RcmPitr.Host.Tests;

/// <summary>The host tests' "live" (master, engine state, tenants) and "pitr" (the pre-restored server) clusters.</summary>
public sealed class HostClusterFixture : TwoClusterFixture;
