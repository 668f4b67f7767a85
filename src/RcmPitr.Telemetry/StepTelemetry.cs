using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Telemetry;

/// <summary>
/// Records activity executions and run ends. Called only where activities execute — never from orchestrator code,
/// which replays — so each execution is recorded once by the process that ran it. Every span of a run shares one
/// trace id derived from the run id, so a run's steps, across hosts, processes and days, read as one trace.
/// </summary>
public static partial class StepTelemetry
{
    /// <summary>
    /// Runs one activity execution inside a span named after <paramref name="step"/> and records its duration and
    /// outcome; <paramref name="bytesMoved"/> reads what a transfer step moved from its result. Exceptions pass through.
    /// </summary>
    public static async Task<T> RunAsync<T>(string step, StepSubject subject, Func<Task<T>> run, Func<T, long>? bytesMoved = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(run);
        var invocation = StepInvocation.Current;
        var runId = invocation?.InstanceId ?? subject.RunId;
        var tenant = TenantOf(subject.Tenant, runId);
        var mode = subject.Mode is { } m ? ModeName(m) : null;
        var started = Stopwatch.GetTimestamp();
        using var span = StartSpan(step, runId, tenant, invocation?.Delivery, mode);
        try
        {
            var result = await run();
            var bytes = bytesMoved?.Invoke(result);
            Record(span, step, tenant, mode, "succeeded", errorType: null, bytes, started);
            return result;
        }
        catch (Exception e)
        {
            Record(span, step, tenant, mode, OutcomeOf(e, cancellationToken), e.GetType().FullName ?? e.GetType().Name, bytes: null, started);
            throw;
        }
    }

    /// <summary>
    /// Records that a run ended, once: call it only when the run's final audit row was inserted by this execution
    /// (a retry or a redelivery finds the row and records nothing). Events other than a run's final ones are ignored.
    /// The run's duration needs its creation time from the host (<see cref="StepInvocation.RunCreatedAt"/>); without it
    /// only the count is recorded.
    /// </summary>
    public static async Task RunEndedAsync(string runId, string auditEvent, IReadOnlyDictionary<string, string>? details, CancellationToken cancellationToken)
    {
        if (RunOutcomes.Of(auditEvent) is not { } outcome)
        {
            return;
        }

        var invocation = StepInvocation.Current;
        var instanceId = invocation?.InstanceId ?? runId;
        var tenant = TenantOf(null, instanceId);
        var mode = RunModeOf(instanceId, details);
        var tags = MetricTags(tenant, (RcmPitrTelemetry.Tags.Outcome, outcome), (RcmPitrTelemetry.Tags.RunMode, mode));
        RcmPitrTelemetry.RunsCount.Add(1, tags);

        var createdAt = await CreatedAtAsync(invocation, cancellationToken);
        if (createdAt is not { } start)
        {
            return;
        }

        var end = TimeProvider.System.GetUtcNow();
        RcmPitrTelemetry.RunSeconds.Record(Math.Max(0, (end - start).TotalSeconds), tags);
        using var span = RcmPitrTelemetry.Source.StartActivity(
            RcmPitrTelemetry.RunSpan, ActivityKind.Internal, RunContext(instanceId), SpanTags(instanceId, tenant, null, null), startTime: start);
        if (span is not null)
        {
            span.SetTag(RcmPitrTelemetry.Tags.Outcome, outcome);
            span.SetTag(RcmPitrTelemetry.Tags.RunMode, mode);
            span.SetEndTime(end.UtcDateTime);
        }
    }

    /// <summary>The tenant's slug: the input's when valid, else the one in a run id of the form <c>restore-&lt;slug&gt;--…</c>.</summary>
    internal static string? TenantOf(string? tenant, string? runId)
    {
        if (TenantSlug.TryParse(tenant, out var slug, out _))
        {
            return slug.Value;
        }

        return runId is not null && RunIdTenant().Match(runId) is { Success: true } match && TenantSlug.TryParse(match.Groups[1].Value, out slug, out _)
            ? slug.Value
            : null;
    }

    /// <summary>The parent every span of <paramref name="runId"/> hangs from: a trace id and span id derived from it.</summary>
    internal static ActivityContext RunContext(string? runId)
    {
        if (runId is null)
        {
            return default;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(runId));
        return new ActivityContext(
            ActivityTraceId.CreateFromBytes(hash.AsSpan(0, 16)), ActivitySpanId.CreateFromBytes(hash.AsSpan(16, 8)), ActivityTraceFlags.Recorded, isRemote: true);
    }

    private static Activity? StartSpan(string step, string? runId, string? tenant, int? delivery, string? mode)
    {
        // A host's own span (e.g. the Functions invocation) stays linked, while the step joins its run's trace.
        var links = Activity.Current is { } host ? new[] { new ActivityLink(host.Context) } : null;
        var tags = SpanTags(runId, tenant, step, delivery);
        if (mode is not null)
        {
            tags.Add(new(RcmPitrTelemetry.Tags.TransferMode, mode));
        }

        return RcmPitrTelemetry.Source.StartActivity(step, ActivityKind.Internal, RunContext(runId), tags, links);
    }

    private static List<KeyValuePair<string, object?>> SpanTags(string? runId, string? tenant, string? step, int? delivery)
    {
        var tags = new List<KeyValuePair<string, object?>>(4);
        if (runId is not null)
        {
            tags.Add(new(RcmPitrTelemetry.Tags.RunId, runId));
        }

        if (tenant is not null)
        {
            tags.Add(new(RcmPitrTelemetry.Tags.Tenant, tenant));
        }

        if (step is not null)
        {
            tags.Add(new(RcmPitrTelemetry.Tags.Step, step));
        }

        if (delivery is { } d)
        {
            tags.Add(new(RcmPitrTelemetry.Tags.Delivery, d));
        }

        return tags;
    }

    private static void Record(Activity? span, string step, string? tenant, string? mode, string outcome, string? errorType, long? bytes, long started)
    {
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        RcmPitrTelemetry.StepSeconds.Record(seconds, MetricTags(
            tenant, (RcmPitrTelemetry.Tags.Step, step), (RcmPitrTelemetry.Tags.Outcome, outcome), (RcmPitrTelemetry.Tags.ErrorType, errorType)));
        if (bytes is > 0)
        {
            RcmPitrTelemetry.TransferredBytes.Add(bytes.Value, MetricTags(tenant, (RcmPitrTelemetry.Tags.Step, step), (RcmPitrTelemetry.Tags.TransferMode, mode)));
        }

        if (span is null)
        {
            return;
        }

        span.SetTag(RcmPitrTelemetry.Tags.Outcome, outcome);
        if (bytes is { } b)
        {
            span.SetTag(RcmPitrTelemetry.Tags.BytesMoved, b);
        }

        if (errorType is not null)
        {
            // The type only: a message can carry names and values, and the orchestrator already shows the redacted one.
            span.SetTag(RcmPitrTelemetry.Tags.ErrorType, errorType);
            span.SetStatus(ActivityStatusCode.Error);
        }
    }

    private static TagList MetricTags(string? tenant, params ReadOnlySpan<(string Key, string? Value)> tags)
    {
        var list = default(TagList);
        if (tenant is not null)
        {
            list.Add(RcmPitrTelemetry.Tags.Tenant, tenant);
        }

        foreach (var (key, value) in tags)
        {
            if (value is not null)
            {
                list.Add(key, value);
            }
        }

        return list;
    }

    /// <summary><c>cancelled</c> only when the execution itself was cancelled (lease lost, host stopping): a client's own timeout is a failure.</summary>
    private static string OutcomeOf(Exception e, CancellationToken cancellationToken) => e switch
    {
        RcmPitrException => "refused",
        OperationCanceledException when cancellationToken.IsCancellationRequested => "cancelled",
        _ => "failed",
    };

    private static string ModeName(TransferMode mode) => mode switch
    {
        TransferMode.Streaming => "streaming",
        TransferMode.Parallel => "parallel",
        TransferMode.Runbook => "runbook",
        _ => "other",
    };

    private static string RunModeOf(string runId, IReadOnlyDictionary<string, string>? details)
    {
        if (RollbackRunId().IsMatch(runId))
        {
            return "rollback";
        }

        return details?.GetValueOrDefault("mode") switch
        {
            "Restore" => "restore",
            "DryRun" => "dry-run",
            "Snapshot" => "snapshot",
            _ => "other",
        };
    }

    private static async Task<DateTimeOffset?> CreatedAtAsync(StepInvocation? invocation, CancellationToken cancellationToken)
    {
        if (invocation?.RunCreatedAt is not { } read)
        {
            return null;
        }

        try
        {
            return await read(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The audit row is written; a run's duration that cannot be read is not worth failing the step for.
            return null;
        }
    }

    [GeneratedRegex("^restore-([a-z0-9-]+?)--", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdTenant();

    [GeneratedRegex(@"-rollback(-[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex RollbackRunId();
}
