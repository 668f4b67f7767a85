using System.Globalization;

namespace RcmPitr.Host.Tests;

/// <summary>
/// The settings every test host shares, in-memory (<see cref="HostRun"/>) or as a child process (<see cref="CrashRun"/>):
/// master and engine databases on the "live" cluster, a <c>PreRestored</c> provisioner on "pitr", a short cache wait and
/// a fast engine poll. Each adds its own keys and timings.
/// </summary>
internal static class HostSettings
{
    public static Dictionary<string, string?> Common(HostClusterFixture fx, string master, string state, string scratch)
    {
        var live = fx.LiveServer;
        var pitr = fx.PitrServer;
        return new Dictionary<string, string?>
        {
            ["RcmPitr:SecretsFile"] = fx.Secrets.Path,
            ["RcmPitr:MigrateControlPlane"] = "true",
            ["RcmPitr:ControlPlane:Host"] = live.Fqdn,
            ["RcmPitr:ControlPlane:Port"] = live.Port.ToString(CultureInfo.InvariantCulture),
            ["RcmPitr:ControlPlane:Database"] = master,
            ["RcmPitr:ControlPlane:Username"] = live.AdminUser,
            ["RcmPitr:ControlPlane:PasswordSecretRef"] = HostClusterFixture.LiveSecretRef,
            ["RcmPitr:StateDatabase:Host"] = live.Fqdn,
            ["RcmPitr:StateDatabase:Port"] = live.Port.ToString(CultureInfo.InvariantCulture),
            ["RcmPitr:StateDatabase:Database"] = state,
            ["RcmPitr:StateDatabase:Username"] = live.AdminUser,
            ["RcmPitr:StateDatabase:PasswordSecretRef"] = HostClusterFixture.LiveSecretRef,
            ["RcmPitr:Provisioner:Kind"] = "PreRestored",
            ["RcmPitr:Provisioner:Server:Name"] = pitr.Name,
            ["RcmPitr:Provisioner:Server:Fqdn"] = pitr.Fqdn,
            ["RcmPitr:Provisioner:Server:Port"] = pitr.Port.ToString(CultureInfo.InvariantCulture),
            ["RcmPitr:Provisioner:Server:AdminUser"] = pitr.AdminUser,
            ["RcmPitr:Provisioner:Server:AdminSecretRef"] = pitr.AdminSecretRef,
            ["RcmPitr:Provisioner:Server:MajorVersion"] = pitr.MajorVersion.ToString(CultureInfo.InvariantCulture),
            ["RcmPitr:Provisioner:EarliestRestoreTime"] = TimeProvider.System.GetUtcNow().AddDays(-1).ToString("O", CultureInfo.InvariantCulture),
            ["RcmPitr:DataMover:ScratchDirectory"] = scratch,
            ["RcmPitr:Engine:PollInterval"] = "00:00:00.100",
            ["RcmPitr:Restore:StatusCacheTtl"] = "00:00:01",
            ["RcmPitr:Restore:FirstPollInterval"] = "00:00:01",
            ["RcmPitr:Restore:RetryFirstInterval"] = "00:00:00.200",
        };
    }
}
