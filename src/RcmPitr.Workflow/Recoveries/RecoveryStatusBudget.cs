using System.Text.Json;
using System.Text.Json.Serialization;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Recoveries;

/// <summary>
/// Keeps a recovery's published status within the budget a run's has (<see cref="RestoreStatusBudget.DefaultMaxBytes"/>): a server
/// can carry many tenants. It shrinks in steps until it fits: first the canary counts go and details get shorter, then refused
/// decisions beyond the last one go, then the lines of tenants already recovered are counted instead of listed, and last, with very
/// many tenants, only as many lines as fit are kept, failed ones first. The accepted decision, the restore point and the
/// operator action always stay. The result of the
/// recovery lists every tenant in full.
/// </summary>
public static class RecoveryStatusBudget
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The status as it is published: <paramref name="status"/> shrunk just enough to fit <paramref name="maxBytes"/>.</summary>
    public static RecoverServerStatus Fit(RecoverServerStatus status, int maxBytes = RestoreStatusBudget.DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (Fits(status, maxBytes))
        {
            return status;
        }

        var shorter = status with { Tenants = [.. status.Tenants.Select(t => t with { Counts = null, Detail = Cut(t.Detail, 120) })] };
        if (Fits(shorter, maxBytes))
        {
            return shorter;
        }

        var refused = status.Decisions.Where(d => !d.Accepted).TakeLast(1);
        shorter = shorter with
        {
            Tenants = [.. shorter.Tenants.Select(t => t with { Detail = Cut(t.Detail, 40) })],
            Decisions = [.. status.Decisions.Where(d => d.Accepted || refused.Contains(d))],
        };
        if (Fits(shorter, maxBytes))
        {
            return shorter;
        }

        var kept = shorter.Tenants.Where(t => t.State != RecoveryTenantStates.Recovered).ToList();
        var fitted = shorter with { Tenants = kept, TenantsOmitted = shorter.Tenants.Count - kept.Count };
        if (Fits(fitted, maxBytes))
        {
            return fitted;
        }

        // Still too many: failed lines first, then the ones under way, as many as fit; the rest are counted.
        var ordered = kept.OrderBy(t => t.State == RecoveryTenantStates.Failed ? 0 : 1).ToList();
        var count = ordered.Count;
        do
        {
            count = Math.Max(0, count - Math.Max(1, count / 10));
            fitted = shorter with { Tenants = ordered.Take(count).ToList(), TenantsOmitted = shorter.Tenants.Count - count };
        }
        while (count > 0 && !Fits(fitted, maxBytes));

        return fitted;
    }

    private static bool Fits(RecoverServerStatus status, int maxBytes) => JsonSerializer.SerializeToUtf8Bytes(status, Json).Length <= maxBytes;

    private static string? Cut(string? text, int max) =>
        text is null || text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
}
