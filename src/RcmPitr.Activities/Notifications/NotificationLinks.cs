using RcmPitr.Workflow.Naming;

namespace RcmPitr.Activities.Notifications;

/// <summary>
/// The links a message carries: the run's page and its status, and — while it awaits approval — the endpoints that decide it
/// (a POST with an approver's credentials; the requester's own decision is refused there as everywhere).
/// </summary>
/// <param name="Page">The run's web page, where an approver reads the change report and decides.</param>
/// <param name="Status">The run's status (<c>GET</c>).</param>
/// <param name="Approve">The approve endpoint (<c>POST</c>); only while the run awaits approval.</param>
/// <param name="Reject">The reject endpoint (<c>POST</c>); only while the run awaits approval.</param>
public sealed record NotificationLinks(string Page, string Status, string? Approve, string? Reject)
{
    /// <summary>The links of run <paramref name="runId"/> under <paramref name="baseUrl"/> (no trailing slash).</summary>
    public static NotificationLinks For(string baseUrl, string runId, bool decide)
    {
        ArgumentException.ThrowIfNullOrEmpty(baseUrl);
        var status = RunAddresses.Status(baseUrl, runId);
        return new NotificationLinks(RunAddresses.Page(baseUrl, runId), status, decide ? status + "/approve" : null, decide ? status + "/reject" : null);
    }

    /// <summary>The links as text lines, for chat payloads.</summary>
    public IEnumerable<string> Lines()
    {
        yield return $"Run page: {Page}";
        yield return $"Status: {Status}";
        if (Approve is not null && Reject is not null)
        {
            yield return $"Approve (POST): {Approve}";
            yield return $"Reject (POST): {Reject}";
        }
    }
}
