using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Telemetry;

/// <summary>
/// What an activity's input says about the run it serves, for tags: the run id and the tenant's slug when the input
/// carries them (the host's <see cref="StepInvocation"/> wins for the run id), and the transfer mode of a transfer step.
/// Nothing else of an input ever reaches telemetry.
/// </summary>
public sealed record StepSubject(string? RunId = null, string? Tenant = null, TransferMode? Mode = null)
{
    /// <summary>An input that names neither run nor tenant.</summary>
    public static StepSubject None { get; } = new();
}
