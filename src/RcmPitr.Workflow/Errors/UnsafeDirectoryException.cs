namespace RcmPitr.Workflow.Errors;

/// <summary>
/// A folder RcmPitr would keep secrets or dumps in is not private to it: a symbolic link, owned by another user, or
/// writable by others. Nothing was written there; the message names the folder and what to change.
/// </summary>
public sealed class UnsafeDirectoryException(string path, string message)
    : RcmPitrException("unsafe_directory", message)
{
    /// <summary>The folder.</summary>
    public string Path { get; } = path;
}
