using System.Runtime.Versioning;

// Runs beside the PostgreSQL operations it hosts, which are Linux-only.
[assembly: SupportedOSPlatform("linux")]
