using System.Runtime.Versioning;

// Runs in the Linux custom container of the Premium plan (infra/Dockerfile).
[assembly: SupportedOSPlatform("linux")]
