namespace RcmPitr.Workflow.Naming;

/// <summary>
/// Where a run is on either host: its status at <c>/api/restores/{id}</c> (its decisions below that), its web page at
/// <c>/runs/{id}</c>. The API's links and the notifications' links are built here, so they cannot drift apart.
/// </summary>
public static class RunAddresses
{
    /// <summary>The restores API's route.</summary>
    public const string ApiRoute = "/api/restores";

    /// <summary>The route of a run's web page, below which its id goes.</summary>
    public const string PageRoute = "/runs";

    /// <summary>
    /// A configured public address as links use it (scheme, host and path, no trailing slash); throws naming
    /// <paramref name="setting"/> when it is not an absolute http(s) address.
    /// </summary>
    public static string Base(string configured, string setting) =>
        Uri.TryCreate(configured, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
            ? uri.GetLeftPart(UriPartial.Path).TrimEnd('/')
            : throw new InvalidOperationException($"{setting} '{configured}' is not an absolute http(s) address.");

    /// <summary>The status address of run <paramref name="runId"/> under <paramref name="baseUrl"/>.</summary>
    public static string Status(string baseUrl, string runId) => $"{baseUrl}{ApiRoute}/{Uri.EscapeDataString(runId)}";

    /// <summary>The web page of run <paramref name="runId"/> under <paramref name="baseUrl"/>.</summary>
    public static string Page(string baseUrl, string runId) => $"{baseUrl}{PageRoute}/{Uri.EscapeDataString(runId)}";
}
