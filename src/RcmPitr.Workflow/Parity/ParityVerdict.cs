namespace RcmPitr.Workflow.Parity;

/// <summary>The parity probe's judgement, ordered from best to worst.</summary>
public enum ParityVerdict
{
    /// <summary>The restored counts look like the restore point: at most the live counts, nothing missing.</summary>
    Pass = 0,

    /// <summary>Plausible but worth a human look (for example rows the live database lost after T).</summary>
    Warn = 1,

    /// <summary>The restored copy looks wrong: stop and reconsider before any cutover.</summary>
    Fail = 2,
}
