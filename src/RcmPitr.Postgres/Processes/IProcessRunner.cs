namespace RcmPitr.Postgres.Processes;

/// <summary>Runs external programs (pg_dump, pg_restore, initdb, …). Injected so tests can observe argv and environment.</summary>
public interface IProcessRunner
{
    /// <summary>
    /// Runs <paramref name="spec"/> to completion. Cancelling kills the whole process tree and throws
    /// <see cref="OperationCanceledException"/>; a non-zero exit code is returned, not thrown.
    /// </summary>
    Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken);
}
