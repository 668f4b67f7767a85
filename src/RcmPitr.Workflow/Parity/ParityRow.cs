namespace RcmPitr.Workflow.Parity;

/// <summary>One canary table in the parity report. A null count means the table does not exist in that database.</summary>
public sealed record ParityRow(string Table, long? LiveCount, long? RestoredCount, ParityVerdict Verdict, string Note);
