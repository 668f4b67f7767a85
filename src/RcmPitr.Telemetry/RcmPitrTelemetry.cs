using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RcmPitr.Telemetry;

/// <summary>
/// The names RcmPitr's telemetry is published under. Exporters subscribe to <see cref="Name"/> for both the
/// <see cref="ActivitySource"/> and the <see cref="Meter"/>; dashboards query the instrument and tag names below.
/// </summary>
public static class RcmPitrTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "RcmPitr";

    /// <summary>Histogram (s) of one activity execution; its count is the number of executions (attempts and deliveries).</summary>
    public const string StepDuration = "rcmpitr.step.duration";

    /// <summary>Counter (By) of the bytes a transfer step moved in one execution (nothing for a reused result).</summary>
    public const string TransferBytes = "rcmpitr.transfer.bytes";

    /// <summary>Histogram (s) of a run from its creation to its final audit row, recorded once per run.</summary>
    public const string RunDuration = "rcmpitr.run.duration";

    /// <summary>Counter of runs that ended, recorded once per run (also when the run's start could not be read).</summary>
    public const string RunsEnded = "rcmpitr.runs.ended";

    /// <summary>The span of a whole run, emitted when it ends (started at the run's creation).</summary>
    public const string RunSpan = "rcmpitr.run";

    internal static readonly ActivitySource Source = new(Name);
    internal static readonly Meter Meter = new(Name);

    internal static readonly Histogram<double> StepSeconds = Meter.CreateHistogram<double>(
        StepDuration, "s", "Duration of one activity execution of a restore run");

    internal static readonly Counter<long> TransferredBytes = Meter.CreateCounter<long>(
        TransferBytes, "By", "Bytes moved from the restored server by a transfer step");

    internal static readonly Histogram<double> RunSeconds = Meter.CreateHistogram<double>(
        RunDuration, "s", "Duration of a run from its creation to its final audit row");

    internal static readonly Counter<long> RunsCount = Meter.CreateCounter<long>(
        RunsEnded, "{run}", "Runs that ended, by outcome");

    /// <summary>Tag names (attributes of spans and metric points).</summary>
    public static class Tags
    {
        /// <summary>The orchestration instance id (spans only: unbounded).</summary>
        public const string RunId = "rcmpitr.run_id";

        /// <summary>The tenant's slug.</summary>
        public const string Tenant = "rcmpitr.tenant";

        /// <summary>The activity name (<c>MoveTenant</c>, <c>WriteAudit</c>…).</summary>
        public const string Step = "rcmpitr.step";

        /// <summary>How many times the engine has delivered this activity call, this one included (embedded host; spans only).</summary>
        public const string Delivery = "rcmpitr.delivery";

        /// <summary>
        /// Steps: <c>succeeded</c>, <c>failed</c> (retryable), <c>refused</c> (a deliberate refusal, never retried) or
        /// <c>cancelled</c> (the lease was lost or the host stopped). Runs: see <see cref="RunOutcomes"/>.
        /// </summary>
        public const string Outcome = "rcmpitr.outcome";

        /// <summary>The transfer mode of a transfer step (<c>streaming</c>, <c>parallel</c>, <c>runbook</c>).</summary>
        public const string TransferMode = "rcmpitr.transfer.mode";

        /// <summary>The bytes the step moved (spans).</summary>
        public const string BytesMoved = "rcmpitr.bytes_moved";

        /// <summary>The run's mode (<c>restore</c>, <c>dry-run</c>, <c>snapshot</c>), when the run ends.</summary>
        public const string RunMode = "rcmpitr.run.mode";

        /// <summary>The full type name of the exception a failed step threw (never its message).</summary>
        public const string ErrorType = "error.type";
    }
}
