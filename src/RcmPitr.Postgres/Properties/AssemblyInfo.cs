using System.Runtime.Versioning;

// Workers run on Linux (the Premium-plan container and the embedded host): file modes (0600 dumps and
// pgpass files), runuser and the Debian PostgreSQL layout are Linux facts this assembly relies on.
[assembly: SupportedOSPlatform("linux")]
