using System.Runtime.Versioning;

// Calls the Linux-only PostgreSQL operations (tenant resolution).
[assembly: SupportedOSPlatform("linux")]
