using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RcmPitr.Workflow.Batches;

/// <summary>
/// Keeps a batch's published status within the budget single runs keep (<see cref="Restores.RestoreStatusBudget.DefaultMaxBytes"/>,
/// below Durable Functions' 16 KB cap on a custom status): fifty members with long details would not fit. It shrinks in steps
/// until it fits: shorter details, then no details of members that succeeded, then no details or steps at all, then the
/// ended members left out (counted in <see cref="RestoreBatchStatus.MembersOmitted"/>; the counts and every member's own status
/// still have them). The members still going, the servers and the counts always stay.
/// </summary>
public static class BatchStatusBudget
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The status as it is published: <paramref name="status"/> shrunk just enough to fit <paramref name="maxBytes"/>.</summary>
    public static RestoreBatchStatus Fit(RestoreBatchStatus status, int maxBytes = Restores.RestoreStatusBudget.DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (Fits(status, maxBytes))
        {
            return status;
        }

        var shorter = status with { Members = [.. status.Members.Select(m => m with { Detail = Clip(m.Detail, 80) })], Error = Clip(status.Error, 200), OperatorAction = Clip(status.OperatorAction, 400) };
        if (Fits(shorter, maxBytes))
        {
            return shorter;
        }

        var quiet = shorter with { Members = [.. shorter.Members.Select(m => m.State == BatchMemberStates.Succeeded ? m with { Detail = null } : m)] };
        if (Fits(quiet, maxBytes))
        {
            return quiet;
        }

        var bare = quiet with { Members = [.. quiet.Members.Select(m => m with { Detail = null, Step = null })], Servers = [.. quiet.Servers.Select(s => s with { Detail = Clip(s.Detail, 80) })] };
        if (Fits(bare, maxBytes))
        {
            return bare;
        }

        var going = bare.Members.Where(m => !m.Final).ToList();
        return bare with { Members = going, MembersOmitted = bare.Members.Count - going.Count };
    }

    private static bool Fits(RestoreBatchStatus status, int maxBytes) => Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(status, Json)) <= maxBytes;

    private static string? Clip(string? text, int length) => text is null || text.Length <= length ? text : text[..length] + "…";
}
