using System.Runtime.Versioning;
using RcmPitr.Host.Tests;

[assembly: SupportedOSPlatform("linux")]
[assembly: AssemblyFixture(typeof(HostClusterFixture))]
