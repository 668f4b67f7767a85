namespace RcmPitr.Workflow.Orchestration;

/// <summary>
/// What an orchestrator learns about a failed activity (mirrors Durable's <c>TaskFailureDetails</c>).
/// </summary>
/// <param name="ErrorType">Full type name of the exception the activity threw.</param>
/// <param name="ErrorMessage">
/// Its message, redacted by <see cref="Errors.FailureText"/> (activities never put secrets in messages; server text
/// inside them can quote row data, which is removed here, where a failure leaves the activity).
/// </param>
/// <param name="ErrorCode">The <see cref="Errors.RcmPitrException.Code"/> for RcmPitr's own refusals, else null.</param>
public sealed record ActivityFailureDetails(string ErrorType, string ErrorMessage, string? ErrorCode = null)
{
    /// <summary>True for RcmPitr's deliberate refusals (bad input, conflicting state), which no retry can fix.</summary>
    public bool IsRefusal => ErrorCode is not null;

    /// <summary>Builds the details from an exception.</summary>
    public static ActivityFailureDetails FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new ActivityFailureDetails(
            exception.GetType().FullName ?? exception.GetType().Name,
            Errors.FailureText.Redact(exception.Message),
            (exception as Errors.RcmPitrException)?.Code);
    }

    /// <inheritdoc />
    public override string ToString() => $"{ErrorType}: {ErrorMessage}";
}
