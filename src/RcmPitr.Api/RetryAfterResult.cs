using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace RcmPitr.Api;

/// <summary>An answer with a <c>Retry-After</c> header (whole seconds) in front of it, whichever host writes it.</summary>
internal sealed class RetryAfterResult(IResult inner, int statusCode, TimeSpan retryAfter) : IResult, IStatusCodeHttpResult
{
    /// <inheritdoc />
    public int? StatusCode => statusCode;

    /// <inheritdoc />
    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var seconds = (int)Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds));
        httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return inner.ExecuteAsync(httpContext);
    }
}
