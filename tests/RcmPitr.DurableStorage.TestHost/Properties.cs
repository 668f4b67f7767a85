using System.Runtime.Versioning;

// The Functions app (and so its orchestrator triggers) runs on Linux only.
[assembly: SupportedOSPlatform("linux")]
