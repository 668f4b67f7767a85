namespace RcmPitr.Workflow.Errors;

/// <summary>
/// The dump about to be loaded is not the file the dump step wrote: its SHA-256 differs from the one recorded then.
/// It was not loaded (pg_restore runs what a dump holds, as the server admin). Someone or something changed the
/// scratch folder between the two steps: an incident to look into, not a fault to retry.
/// </summary>
public sealed class DumpVerificationFailedException(string path, string expectedSha256, string actualSha256)
    : RcmPitrException(
        "dump_verification_failed",
        $"the dump {path} has SHA-256 {actualSha256}, not {expectedSha256} as when the dump step wrote it: it changed since, and was not loaded; check who can write the scratch folder")
{
    /// <summary>The dump's path.</summary>
    public string Path { get; } = path;
}
