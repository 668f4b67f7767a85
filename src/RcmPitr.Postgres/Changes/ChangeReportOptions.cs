namespace RcmPitr.Postgres.Changes;

/// <summary>
/// Settings of the change report (<see cref="TenantChangeComparer"/>). They bind from the <c>Changes</c> configuration
/// section (<see cref="Section"/>): <c>RcmPitr:Changes:*</c> on the embedded host (environment
/// <c>RcmPitr__Changes__TimeBudget</c>, …), <c>Changes:*</c> on the Functions app (<c>Changes__TimeBudget</c>, …).
/// </summary>
public sealed record ChangeReportOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Changes";

    /// <summary>Primary keys kept per category (only in live, only in copy, different) per table. Default 100.</summary>
    public int SampleKeys { get; set; } = 100;

    /// <summary>
    /// How long the whole comparison may take. When it runs out, the comparisons in flight are cancelled and reported
    /// with their counts so far, the tables not started with none, and the report is marked partial. Default 10 minutes.
    /// </summary>
    public TimeSpan TimeBudget { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Tables compared at once (each takes one session on each database). Default 2.</summary>
    public int Parallelism { get; set; } = 2;
}
