namespace RcmPitr.Engine.Hosting;

/// <summary>Settings of an embedded engine process.</summary>
public sealed class EngineOptions
{
    /// <summary>
    /// This process's name in activity leases (diagnostics only; must be unique per process). Each activity loop
    /// leases as <c>&lt;WorkerId&gt;/activity-&lt;n&gt;</c>; a per-claim lease id, not this name, decides who may record a result.
    /// </summary>
    public string WorkerId { get; set; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Longest sleep between looks for work when no notification arrives.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a claimed activity stays leased without renewal. A crashed worker's activities run again after this.</summary>
    public TimeSpan ActivityLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Activities run at once by this process (dump/restore are heavy: keep it small).</summary>
    public int MaxConcurrentActivities { get; set; } = 2;
}
