using System.Runtime.Versioning;
using RcmPitr.Engine.Tests;

[assembly: SupportedOSPlatform("linux")]
[assembly: AssemblyFixture(typeof(EngineClusterFixture))]
