using RcmPitr.Engine.History;

namespace RcmPitr.Engine.Replay;

/// <summary>An action (activity call or timer) an instance's history recorded, with its position in that history.</summary>
/// <param name="Index">The event's position in the history (0-based), as divergence messages name it.</param>
internal sealed record RecordedAction(int Index, HistoryEvent Event)
{
    /// <summary>"TaskScheduled 'Name'", or the bare kind for a timer.</summary>
    public static string Describe(string kind, string? name) => name is null ? kind : $"{kind} '{name}'";
}
