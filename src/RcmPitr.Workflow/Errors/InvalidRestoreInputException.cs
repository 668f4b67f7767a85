namespace RcmPitr.Workflow.Errors;

/// <summary>An input value (slug, time, identifier, option) was rejected before anything was touched.</summary>
public sealed class InvalidRestoreInputException : RcmPitrException
{
    /// <summary>Creates the exception for <paramref name="field"/>.</summary>
    public InvalidRestoreInputException(string field, string message)
        : base("invalid_input", $"{field}: {message}") => Field = field;

    /// <summary>The input field that was rejected.</summary>
    public string Field { get; }
}
