using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace RcmPitr.Api;

/// <summary>
/// Limits how many runs one principal starts within a sliding window (<see cref="StartRateLimitOptions"/>), for both
/// hosts: a start beyond the limit gets 429 with <c>Retry-After</c> saying when the oldest counted start leaves the
/// window. Only accepted starts count: a slot is held while the start runs and given back unless it answered 202, so a
/// mistyped request does not use up an incident's budget. The count lives in this process (on Azure: per instance).
/// </summary>
/// <remarks>
/// A log of start times per principal rather than System.Threading.RateLimiting's window limiters: those replenish on
/// their own timer and report the whole window as Retry-After; this one reads the injected clock, so the answer is
/// exact and tests need no waiting.
/// </remarks>
public sealed class StartRateLimiter(StartRateLimitOptions options, TimeProvider time)
{
    private readonly Dictionary<string, List<DateTimeOffset>> _starts = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Runs <paramref name="start"/> for <paramref name="principal"/> unless it has used up its starts.</summary>
    public async Task<IResult> LimitAsync(Principal principal, Func<Task<IResult>> start)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(start);
        if (options.StartsPerWindow <= 0)
        {
            return await start();
        }

        if (!TryReserve(principal.Id, out var reserved, out var retryAfter))
        {
            var detail = string.Create(CultureInfo.InvariantCulture,
                $"'{principal.Name}' has started {options.StartsPerWindow} runs within {options.Window}; the next start is possible in {Math.Ceiling(retryAfter.TotalSeconds)} s.");
            return new RetryAfterResult(
                TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many starts", detail: detail),
                StatusCodes.Status429TooManyRequests, retryAfter);
        }

        var accepted = false;
        try
        {
            var result = await start();
            accepted = result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status202Accepted };
            return result;
        }
        finally
        {
            if (!accepted)
            {
                Release(principal.Id, reserved);
            }
        }
    }

    /// <summary>Counts a start for <paramref name="principalId"/> now; false, with the wait, when none is left.</summary>
    public bool TryReserve(string principalId, out DateTimeOffset reserved, out TimeSpan retryAfter)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_starts.TryGetValue(principalId, out var starts))
            {
                starts = [];
                _starts[principalId] = starts;
            }

            starts.RemoveAll(s => s <= now - options.Window);
            if (starts.Count >= options.StartsPerWindow)
            {
                reserved = default;
                retryAfter = starts[0] + options.Window - now;
                return false;
            }

            starts.Add(now);
            reserved = now;
            retryAfter = TimeSpan.Zero;
            return true;
        }
    }

    private void Release(string principalId, DateTimeOffset reserved)
    {
        lock (_gate)
        {
            if (_starts.TryGetValue(principalId, out var starts))
            {
                starts.Remove(reserved);
                if (starts.Count == 0)
                {
                    _starts.Remove(principalId);
                }
            }
        }
    }
}
