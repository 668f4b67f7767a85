using DurableTask.AzureStorage;
using Microsoft.Extensions.Logging;

namespace RcmPitr.DurableStorage.TestHost;

/// <summary>
/// The Azure Storage provider with its defaults (table partition manager, app lease, 5-minute queue visibility timeouts)
/// except what makes a test take seconds: one partition, queues polled at most every half second, and a partition lease
/// that lapses a few seconds after its owner died, so a restarted host takes over quickly.
/// </summary>
public static class StorageBackend
{
    /// <summary>How long a dead worker's partition lease holds the task hub before another worker may take it.</summary>
    public static readonly TimeSpan LeaseInterval = TimeSpan.FromSeconds(6);

    public static AzureStorageOrchestrationService Create(string connectionString, string taskHub, ILoggerFactory loggerFactory) =>
        new(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(connectionString),
            TaskHubName = taskHub,
            // A new id per process: the restarted host is a different worker and must wait for the dead one's lease.
            WorkerId = $"rcmpitr-testhost-{Environment.ProcessId}",
            PartitionCount = 1,
            MaxQueuePollingInterval = TimeSpan.FromMilliseconds(500),
            LeaseInterval = LeaseInterval,
            LeaseRenewInterval = TimeSpan.FromSeconds(2),
            LeaseAcquireInterval = TimeSpan.FromSeconds(1),
            LoggerFactory = loggerFactory,
        });
}
