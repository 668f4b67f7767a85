using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RcmPitr.Host.Composition;

/// <summary>
/// For the local environment: a base backup every <see cref="ProvisionerOptions.BackupInterval"/>, pruning
/// those past <see cref="ProvisionerOptions.BackupRetention"/> — so the earliest restorable time advances as
/// Azure's retention window does. Does nothing for other provisioners.
/// </summary>
public sealed partial class LocalBackupService(IServiceProvider services, RcmPitrOptions options, TimeProvider time, ILogger<LocalBackupService> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var provisioner = options.Provisioner;
        if (provisioner.Kind != "LocalWal" || provisioner.BackupInterval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(provisioner.BackupInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var (taken, pruned) = await HostServices.LocalEnvironmentOf(services, provisioner).BackupAsync(provisioner.BackupRetention, stoppingToken);
                LogBackup(logger, taken.Name, pruned.RemovedBackups.Count, pruned.EarliestRestorableTime);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogBackupFailed(logger, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Took base backup {Backup}; pruned {Pruned}; earliest restorable time now {Earliest}")]
    private static partial void LogBackup(ILogger logger, string backup, int pruned, DateTimeOffset? earliest);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scheduled base backup failed")]
    private static partial void LogBackupFailed(ILogger logger, Exception exception);
}
