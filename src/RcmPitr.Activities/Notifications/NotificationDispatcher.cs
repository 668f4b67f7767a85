using System.Runtime.Versioning;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using RcmPitr.Postgres.Connections;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Contracts;

namespace RcmPitr.Activities.Notifications;

/// <summary>
/// Delivers the outbox's due messages to their targets, one claimed row at a time. A failure is recorded by status code
/// or exception type only: the URL (a secret, read from the secret store per send) never reaches a log or the outbox.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class NotificationDispatcher : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly NotificationOutbox _outbox;
    private readonly ISecretStore _secrets;
    private readonly ILogger<NotificationDispatcher> _logger;
    private readonly Dictionary<string, NotificationTarget> _targets;
    private readonly OutboxRetryPolicy _policy;
    private readonly HttpClient _http;
    private readonly NotificationOptions _options;

    /// <summary>Checks the targets' names (they are stored with each message) and creates the one HTTP client.</summary>
    public NotificationDispatcher(NotificationOutbox outbox, NotificationOptions options, ISecretStore secrets, ILogger<NotificationDispatcher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _outbox = outbox;
        _secrets = secrets;
        _logger = logger;
        _targets = TargetNames(options).Zip(options.Targets).ToDictionary(t => t.First, t => t.Second, StringComparer.Ordinal);
        if (options.MaxAttempts < 1)
        {
            throw new InvalidOperationException("Notifications:MaxAttempts must be at least 1.");
        }

        _policy = new OutboxRetryPolicy(options.MaxAttempts, options.FirstRetryDelay, options.MaxRetryDelay);
        _options = options;
        // A configured address is checked now; without one, the embedded host's listening address is asked at each send.
        BaseUrl(options.PublicBaseUrl);
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false })
        {
            Timeout = options.SendTimeout,
        };
    }

    /// <summary>Whether any target is configured (without one the outbox stays empty and nothing needs dispatching).</summary>
    public bool HasTargets => _targets.Count > 0;

    /// <summary>Delivers every message due now; returns how many attempts were made.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken cancellationToken)
    {
        var attempts = 0;
        while (await _outbox.DispatchOneAsync(SendAsync, _policy, cancellationToken))
        {
            attempts++;
        }

        return attempts;
    }

    /// <summary>The configured targets' names, checked: unique, and safe to store and log.</summary>
    public static string[] TargetNames(NotificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var names = options.Targets.Select(t => t.Name).ToArray();
        foreach (var target in options.Targets)
        {
            if (!TargetName().IsMatch(target.Name))
            {
                throw new InvalidOperationException("Every Notifications:Targets entry needs a Name of 1–63 letters, digits, '-' or '_'.");
            }

            if (string.IsNullOrWhiteSpace(target.UrlSecretRef))
            {
                throw new InvalidOperationException($"Notifications target '{target.Name}' needs UrlSecretRef: the name of the secret holding its URL.");
            }
        }

        return names.Distinct(StringComparer.Ordinal).Count() == names.Length
            ? names
            : throw new InvalidOperationException("Notifications:Targets names must be unique.");
    }

    /// <summary>
    /// The JSON body a target of <paramref name="kind"/> receives for <paramref name="message"/>, with the run's links under
    /// <paramref name="baseUrl"/> (none when null).
    /// </summary>
    public static object Payload(NotificationPayloadKind kind, OutboxMessage message, string? baseUrl = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        var links = baseUrl is null ? null : NotificationLinks.For(baseUrl, message.RunId, decide: message.Event == NotifyEvents.AwaitingApproval);
        return kind switch
        {
            NotificationPayloadKind.Text => new { text = string.Join("\n", new[] { message.Subject, message.Body }.Concat(links?.Lines() ?? [])) },
            _ => new
            {
                @event = message.Event,
                runId = message.RunId,
                tenant = message.Tenant,
                subject = message.Subject,
                body = message.Body,
                createdAt = message.CreatedAt,
                attempt = message.Attempts + 1,
                links,
            },
        };
    }

    /// <summary>The configured base address without a trailing slash; throws naming the setting when it is not an absolute http(s) URL.</summary>
    internal static string? BaseUrl(string? configured) =>
        string.IsNullOrWhiteSpace(configured) ? null : Workflow.Naming.RunAddresses.Base(configured, "Notifications:PublicBaseUrl");

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private async Task<string?> SendAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        string? error;
        if (!_targets.TryGetValue(message.Target, out var target))
        {
            error = "target not configured";
        }
        else
        {
            error = await PostAsync(target, message, cancellationToken);
        }

        if (error is null)
        {
            LogDelivered(_logger, message.RunId, message.Event, message.Target, message.Attempts + 1);
        }
        else
        {
            LogFailed(_logger, message.RunId, message.Event, message.Target, message.Attempts + 1, error);
        }

        return error;
    }

    private async Task<string?> PostAsync(NotificationTarget target, OutboxMessage message, CancellationToken cancellationToken)
    {
        try
        {
            var url = new Uri(await _secrets.GetSecretAsync(target.UrlSecretRef, cancellationToken), UriKind.Absolute);
            using var content = JsonContent.Create(Payload(target.Kind, message, BaseUrl(_options.PublicBaseUrl) ?? BaseUrl(_options.ListeningAddress?.Invoke())), options: Json);
            using var response = await _http.PostAsync(url, content, cancellationToken);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // the host is stopping: the claim is rolled back and the row stays pending
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException or KeyNotFoundException or IOException or InvalidOperationException)
        {
            // The type only: messages of these exceptions can carry the URL (a secret).
            return e is TaskCanceledException ? "timeout" : e.GetType().Name;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,63}$")]
    private static partial Regex TargetName();

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification {Event} of run {RunId} delivered to {Target} (attempt {Attempt})")]
    private static partial void LogDelivered(ILogger logger, string runId, string @event, string target, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notification {Event} of run {RunId} to {Target} failed (attempt {Attempt}): {Error}")]
    private static partial void LogFailed(ILogger logger, string runId, string @event, string target, int attempt, string error);
}
