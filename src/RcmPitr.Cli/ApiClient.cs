using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RcmPitr.Cli;

/// <summary>
/// A thin client of the restores API. The key is sent in <c>x-functions-key</c>; it never appears in argv. A redirect is
/// an error naming its target, never followed: the key header would go with it.
/// </summary>
internal sealed class ApiClient(HttpClient http)
{
    public async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await http.SendAsync(request, ct);
        if ((int)response.StatusCode is >= 300 and < 400)
        {
            var from = response.RequestMessage?.RequestUri ?? http.BaseAddress;
            var target = response.Headers.Location is not { } location ? "nowhere (no Location)"
                : from is null ? location.ToString() : new Uri(from, location).ToString();
            throw new InvalidOperationException(
                $"the API answered {(int)response.StatusCode} with a redirect to {target}; not following it, since the API key would go along. If that is the API, pass it with --url");
        }

        var text = await response.Content.ReadAsStringAsync(ct);
        var json = string.IsNullOrWhiteSpace(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, json);
    }

    /// <summary>A GET whose answer is text (CSV): the text on success, else the problem body.</summary>
    public async Task<(HttpStatusCode Status, string? Text, JsonElement Problem)> GetTextAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.IsSuccessStatusCode)
        {
            return (response.StatusCode, text, default);
        }

        if ((int)response.StatusCode is >= 300 and < 400)
        {
            throw new InvalidOperationException($"the API answered {(int)response.StatusCode} with a redirect; not following it, since the API key would go along. If that is the API, pass it with --url");
        }

        JsonElement problem = default;
        try
        {
            problem = string.IsNullOrWhiteSpace(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            // Not a problem+json body: the status code says it.
        }

        return (response.StatusCode, null, problem);
    }

    /// <summary>The one-line reason of a problem+json body (or the status code).</summary>
    public static string Describe(HttpStatusCode status, JsonElement body)
    {
        if (body.ValueKind == JsonValueKind.Object)
        {
            if (body.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                return string.Join("; ", errors.EnumerateObject().Select(e => $"{e.Name}: {string.Join(", ", e.Value.EnumerateArray().Select(v => v.GetString()))}"));
            }

            if (body.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
            {
                return detail.GetString()!;
            }

            if (body.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String)
            {
                return title.GetString()!;
            }
        }

        return $"HTTP {(int)status} {status}";
    }
}
