using System.Runtime.Versioning;

// Used beside the Linux-only PostgreSQL operations, in the Linux Functions container.
[assembly: SupportedOSPlatform("linux")]
