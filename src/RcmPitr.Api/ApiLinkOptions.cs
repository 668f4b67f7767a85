namespace RcmPitr.Api;

/// <summary>How the API builds the links it returns (<c>Location</c>, <c>statusQueryGetUri</c>, …).</summary>
public sealed class ApiLinkOptions
{
    /// <summary>
    /// The API's public address (e.g. <c>https://rcm-pitr.example.com</c>), used for every returned link. Unset: the
    /// scheme and <c>Host</c> of the request, which a client controls — set it behind a proxy or a custom domain.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>The base of the links for a request to <paramref name="requestScheme"/>://<paramref name="requestHost"/>.</summary>
    public string BaseFor(string requestScheme, string requestHost) =>
        PublicBaseUrl is { Length: > 0 } configured
            ? Workflow.Naming.RunAddresses.Base(configured, "Links:PublicBaseUrl")
            : $"{requestScheme}://{requestHost}";
}
