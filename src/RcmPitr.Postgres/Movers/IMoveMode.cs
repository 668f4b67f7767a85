namespace RcmPitr.Postgres.Movers;

/// <summary>One way of moving a database (<see cref="RcmPitr.Workflow.Contracts.TransferMode"/>); <see cref="TenantMover"/> picks it.</summary>
internal interface IMoveMode
{
    Task<ModeOutcome> MoveAsync(MoveContext context, CancellationToken ct);
}

/// <summary>One move as a mode sees it: the request, its private scratch folder, its meter, and what its loading sessions may use.</summary>
internal sealed record MoveContext(MoveRequest Request, string Scratch, MoveMeter Meter, LoadingSession Session);

/// <summary>What a mode did: peak scratch bytes, bytes moved (or dumped), tables, and what an earlier attempt had done and was kept.</summary>
internal sealed record ModeOutcome(long PeakScratchBytes, long Bytes, int Tables, long BytesKept = 0, int PiecesKept = 0);
