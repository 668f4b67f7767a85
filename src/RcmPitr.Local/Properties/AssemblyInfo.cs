using System.Runtime.Versioning;

// Local clusters: runuser, file modes and the Debian PostgreSQL layout.
[assembly: SupportedOSPlatform("linux")]
