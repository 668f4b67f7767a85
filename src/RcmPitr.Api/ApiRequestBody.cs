using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace RcmPitr.Api;

/// <summary>
/// Reads a request body for both hosts, after the caller has been authenticated: at most <see cref="MaxBytes"/>
/// (413), JSON only (415), well-formed (400 naming line and position), an object whose every field is one the request
/// has (400 naming each unknown or repeated field — a misspelled <c>"mdoe": "dry-run"</c> must never start a real
/// restore), with the value types the fields take. An empty body reads as absent.
/// </summary>
public static class ApiRequestBody
{
    /// <summary>The largest body accepted, in bytes (the embedded host's server limit too).</summary>
    public const int MaxBytes = 16 * 1024;

    private const string Title = "The request body is invalid.";

    /// <summary>The body of <c>POST /api/restores</c>, or the problem to answer with.</summary>
    public static Task<(StartRestoreBody? Body, IResult? Problem)> ReadStartAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadAsync<StartRestoreBody>(request, validate: null, cancellationToken);

    /// <summary>The body of <c>POST /api/restore-batches</c>, or the problem to answer with.</summary>
    public static Task<(StartBatchBody? Body, IResult? Problem)> ReadBatchStartAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadAsync<StartBatchBody>(request, validate: null, cancellationToken);

    /// <summary>The body of <c>POST /api/drills</c> (may be absent), or the problem to answer with.</summary>
    public static Task<(Drills.StartDrillBody? Body, IResult? Problem)> ReadDrillStartAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadAsync<Drills.StartDrillBody>(request, validate: null, cancellationToken);

    /// <summary>The body of approve / reject (may be absent), or the problem to answer with.</summary>
    public static Task<(DecisionBody? Body, IResult? Problem)> ReadDecisionAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadAsync<DecisionBody>(request, RequestValidation.Validate, cancellationToken);

    /// <summary>The body of cancel (may be absent), or the problem to answer with.</summary>
    public static Task<(ReasonBody? Body, IResult? Problem)> ReadReasonAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadAsync<ReasonBody>(request, RequestValidation.Validate, cancellationToken);

    /// <summary>The body of rollback (may be absent), or the problem to answer with.</summary>
    public static Task<(RollbackBody? Body, IResult? Problem)> ReadRollbackAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadAsync<RollbackBody>(request, RequestValidation.Validate, cancellationToken);

    /// <summary>The body of <c>POST /api/server-recoveries</c>, or the problem to answer with.</summary>
    public static Task<(Recoveries.StartServerRecoveryBody? Body, IResult? Problem)> ReadServerRecoveryAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadAsync<Recoveries.StartServerRecoveryBody>(request, validate: null, cancellationToken);

    private static async Task<(T? Body, IResult? Problem)> ReadAsync<T>(
        HttpRequest request, Func<T?, Dictionary<string, string[]>>? validate, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        var buffer = new byte[MaxBytes + 1];
        var length = 0;
        try
        {
            int read;
            while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }

        if (length > MaxBytes)
        {
            return (null, TooLarge());
        }

        if (length == 0)
        {
            return Validated(default(T), validate);
        }

        if (!IsJson(request.ContentType))
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send the body as application/json (UTF-8)."));
        }

        JsonDocument document;
        try
        {
            // A UTF-8 byte order mark is allowed in front of the JSON, and nothing else.
            var start = buffer.AsSpan(0, length).StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
            document = JsonDocument.Parse(buffer.AsMemory(start, length - start), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            return (null, Invalid(new() { ["body"] = [Malformed(e)] }));
        }

        using (document)
        {
            var info = ApiJson.RequestOptions.GetTypeInfo(typeof(T));
            var errors = FieldProblems(document.RootElement, info);
            if (errors.Count > 0)
            {
                return (null, Invalid(errors));
            }

            T? body;
            try
            {
                body = document.RootElement.Deserialize<T>(ApiJson.RequestOptions);
            }
            catch (JsonException e)
            {
                // The checks above should leave nothing for this; if they ever do, still name what could be named.
                return (null, Invalid(new() { [FieldOf(e.Path)] = ["could not be read as this request's field"] }));
            }

            return Validated(body, validate);
        }
    }

    private static (T? Body, IResult? Problem) Validated<T>(T? body, Func<T?, Dictionary<string, string[]>>? validate)
        where T : class
    {
        var errors = validate?.Invoke(body);
        return errors is { Count: > 0 } ? (null, Invalid(errors)) : (body, null);
    }

    private static Dictionary<string, string[]> FieldProblems(JsonElement root, JsonTypeInfo info)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors["body"] = [$"must be a JSON object with the fields {Fields(info)}"];
            return errors;
        }

        // Names match case-insensitively (web defaults), so "mode" and "Mode" would be one field given twice.
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in root.EnumerateObject())
        {
            var name = RequestValidation.Echo(property.Name);
            var field = info.Properties.FirstOrDefault(p => string.Equals(p.Name, property.Name, StringComparison.OrdinalIgnoreCase));
            if (field is null)
            {
                errors[name] = [$"is not a field of this request (use {Fields(info)})"];
            }
            else if (!seen.Add(field.Name))
            {
                errors[field.Name] = ["is given more than once"];
            }
            else if (field.PropertyType == typeof(string) && property.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                errors[field.Name] = [$"must be a string, not {property.Value.ValueKind.ToString().ToLowerInvariant()}"];
            }
        }

        return errors;
    }

    private static string Fields(JsonTypeInfo info) => string.Join(", ", info.Properties.Select(p => p.Name));

    private static bool IsJson(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType is not { } type)
        {
            return false;
        }

        var json = type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
        return json && (media.CharSet is null || media.CharSet.Trim('"').Equals(Encoding.UTF8.WebName, StringComparison.OrdinalIgnoreCase));
    }

    private static string Malformed(JsonException e)
    {
        // The reader's message ends with its own zero-based "LineNumber: n | BytePositionInLine: m."; say it once, one-based.
        var reason = e.Message;
        var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        reason = (cut > 0 ? reason[..cut] : reason).Trim();
        return e.LineNumber is { } line && e.BytePositionInLine is { } position
            ? $"not valid JSON at line {line + 1}, position {position + 1}: {reason}"
            : $"not valid JSON: {reason}";
    }

    private static string FieldOf(string? path) =>
        path is { Length: > 2 } && path.StartsWith("$.", StringComparison.Ordinal) ? RequestValidation.Echo(path[2..]) : "body";

    private static IResult Invalid(Dictionary<string, string[]> errors) => TypedResults.ValidationProblem(errors, title: Title);

    private static IResult TooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large", detail: $"The body may have at most {MaxBytes} bytes.");
}
