using System.Runtime.Versioning;
using RcmPitr.Postgres.Tests.Fixtures;

[assembly: SupportedOSPlatform("linux")]
[assembly: AssemblyFixture(typeof(ClusterFixture))]
