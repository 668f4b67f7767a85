using System.Runtime.Versioning;
using RcmPitr.Functions.Tests;

[assembly: SupportedOSPlatform("linux")]
[assembly: AssemblyFixture(typeof(FunctionsClusterFixture))]
