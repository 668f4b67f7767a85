namespace RcmPitr.Workflow.Errors;

/// <summary>
/// Base of every refusal RcmPitr raises on purpose. <see cref="Code"/> is stable and machine-readable;
/// the message is written for the on-call engineer reading it.
/// </summary>
public abstract class RcmPitrException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected RcmPitrException(string code, string message, Exception? inner = null)
        : base(message, inner) => Code = code;

    /// <summary>A stable, machine-readable error code such as <c>tenant_not_found</c>.</summary>
    public string Code { get; }
}
