using System.Runtime.Versioning;

// Hosts the Linux-only PostgreSQL operations.
[assembly: SupportedOSPlatform("linux")]
