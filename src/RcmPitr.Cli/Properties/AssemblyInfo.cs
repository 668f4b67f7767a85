using System.Runtime.Versioning;

// Hosts the Linux-only PostgreSQL operations (serve).
[assembly: SupportedOSPlatform("linux")]
