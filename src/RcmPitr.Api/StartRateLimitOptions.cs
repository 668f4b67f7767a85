namespace RcmPitr.Api;

/// <summary>The per-principal limit on starting runs (section <c>RcmPitr:RateLimit</c> on the embedded host, <c>RateLimit</c> on Azure).</summary>
public sealed class StartRateLimitOptions
{
    /// <summary>Starts one principal may make within <see cref="Window"/>; 0 turns the limit off.</summary>
    public int StartsPerWindow { get; set; } = 10;

    /// <summary>The sliding window the starts are counted over.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(1);
}
