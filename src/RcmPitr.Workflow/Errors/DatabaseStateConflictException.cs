namespace RcmPitr.Workflow.Errors;

/// <summary>
/// The databases on the live server are in a state the step cannot converge from on its own
/// (for example a <c>_pre_pitr_</c> name already taken by an earlier run). Nothing was changed;
/// the message says what an operator must look at.
/// </summary>
public sealed class DatabaseStateConflictException(string message)
    : RcmPitrException("database_state_conflict", message);
