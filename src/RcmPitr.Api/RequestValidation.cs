using System.Globalization;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Api;

/// <summary>Validates a start request field by field, collecting every problem with the field it belongs to.</summary>
public static class RequestValidation
{
    /// <summary>The longest reason accepted.</summary>
    public const int MaxReasonLength = 500;

    /// <summary>The longest decision comment accepted (it travels into the run's history and the audit trail).</summary>
    public const int MaxCommentLength = 500;

    /// <summary>How much of a refused value an error message repeats.</summary>
    public const int MaxEcho = 80;

    // yyyy-MM-ddTHH:mm[:ss[.f…]] followed by Z or ±hh:mm; nothing else (no culture orders, no missing zone).
    private static readonly string[] TimeFormats = CreateTimeFormats();

    /// <summary>Parsed values, or the problems per field.</summary>
    public static (ParsedStart? Parsed, Dictionary<string, string[]> Errors) Validate(StartRestoreBody? body, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body is null)
        {
            errors["body"] = ["a JSON body {tenant, restoreTime, mode?, strategy?, transfer?, reason} is required"];
            return (null, errors);
        }

        if (!TenantSlug.TryParse(body.Tenant, out var slug, out var slugProblem))
        {
            errors["tenant"] = [slugProblem];
        }

        var time = ParseTime(body.RestoreTime, now, errors);
        var mode = ParseMode(body.Mode, errors);
        var strategy = ParseStrategy(body.Strategy, errors);
        var transfer = ParseTransferName(body.Transfer);
        if (transfer is null)
        {
            errors["transfer"] = [$"'{Echo(body.Transfer)}' is not a transfer mode; use streaming (the default), parallel or runbook"];
        }
        var reason = body.Reason?.Trim();
        if (string.IsNullOrEmpty(reason))
        {
            errors["reason"] = ["a reason is required (it goes into the audit trail)"];
        }
        else if (reason.Length > MaxReasonLength)
        {
            errors["reason"] = [$"at most {MaxReasonLength} characters"];
        }

        return errors.Count > 0 ? (null, errors) : (new ParsedStart(slug!, time!.Value, mode!.Value, strategy!.Value, reason!, transfer!.Value), errors);
    }

    /// <summary>
    /// Parsed values of a batch start, or the problems per field: exactly one of <c>tenants</c> (1–50 distinct valid slugs) and
    /// <c>server</c>; the other fields as for a single start; <c>parallelism</c> 1–16 when given.
    /// </summary>
    public static (ParsedBatch? Parsed, Dictionary<string, string[]> Errors) Validate(StartBatchBody? body, DateTimeOffset now)
    {
        if (body is null)
        {
            return (null, new Dictionary<string, string[]>(StringComparer.Ordinal)
            {
                ["body"] = ["a JSON body {tenants: [..] | server, restoreTime, mode?, strategy?, transfer?, reason, parallelism?} is required"],
            });
        }

        // The fields a batch shares with a single start, checked the same way (the tenant is checked below).
        var (common, errors) = Validate(new StartRestoreBody("batch", body.RestoreTime, body.Mode, body.Strategy, body.Reason, body.Transfer), now);
        var tenants = new List<TenantSlug>();
        string? server = null;
        if ((body.Tenants is null) == (body.Server is null))
        {
            errors["tenants"] = ["give either tenants (a list of slugs) or server (every tenant of that server), not both and not neither"];
        }
        else if (body.Tenants is { } list)
        {
            if (list.Count is 0 or > RestoreBatchRequest.MaxMembers)
            {
                errors["tenants"] = [$"1 to {RestoreBatchRequest.MaxMembers} tenants per batch; split a longer list"];
            }

            var problems = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var value in list)
            {
                if (!TenantSlug.TryParse(value, out var slug, out var problem))
                {
                    problems.Add($"'{Echo(value)}': {problem}");
                }
                else if (!seen.Add(slug!.Value))
                {
                    problems.Add($"'{slug.Value}' is listed more than once");
                }
                else
                {
                    tenants.Add(slug);
                }
            }

            if (problems.Count > 0)
            {
                errors["tenants"] = [.. problems.Take(10)];
            }
        }
        else
        {
            try
            {
                server = ServerNames.Require(body.Server, "server");
            }
            catch (Workflow.Errors.InvalidRestoreInputException)
            {
                errors["server"] = [$"'{Echo(body.Server)}' is not a server name (lowercase letters and digits, single hyphens between them)"];
            }
        }

        if (body.Parallelism is < 1 or > BatchSettings.MaxParallelism)
        {
            errors["parallelism"] = [$"1 to {BatchSettings.MaxParallelism}"];
        }

        return errors.Count > 0 || common is null
            ? (null, errors)
            : (new ParsedBatch(tenants, server, common with { Tenant = TenantSlug.Parse("batch") }, body.Parallelism), errors);
    }

    /// <summary>Parses a mode name: <c>restore</c>, <c>dry-run</c> or <c>snapshot</c>.</summary>
    public static RestoreMode? ParseModeName(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "restore" => RestoreMode.Restore,
        "dry-run" or "dryrun" => RestoreMode.DryRun,
        "snapshot" => RestoreMode.Snapshot,
        _ => null,
    };

    /// <summary>Parses a transfer mode name: <c>streaming</c> (the default), <c>parallel</c> or <c>runbook</c>.</summary>
    public static TransferMode? ParseTransferName(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "streaming" => TransferMode.Streaming,
        "parallel" => TransferMode.Parallel,
        "runbook" => TransferMode.Runbook,
        _ => null,
    };

    /// <summary>Parses a strategy name: <c>swap-and-keep</c> or <c>flip-the-ref</c>.</summary>
    public static CutoverStrategy? ParseStrategyName(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "swap-and-keep" or "swapandkeep" => CutoverStrategy.SwapAndKeep,
        "flip-the-ref" or "fliptheref" => CutoverStrategy.FlipTheRef,
        _ => null,
    };

    private static DateTimeOffset? ParseTime(string? value, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors["restoreTime"] = ["required: an ISO-8601 UTC time such as 2026-04-22T14:30:00Z"];
            return null;
        }

        // Exactly ISO-8601 with an explicit zone: a bare local time is ambiguous by hours and a culture's order
        // ("04/05/2026") by months, either of which is fatal here.
        if (!DateTimeOffset.TryParseExact(value, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            errors["restoreTime"] = [$"'{Echo(value)}' is not an ISO-8601 time with a zone (use e.g. 2026-04-22T14:30:00Z)"];
            return null;
        }

        if (time > now)
        {
            errors["restoreTime"] = [$"{time.UtcDateTime:O} is in the future"];
            return null;
        }

        return time.ToUniversalTime();
    }

    /// <summary>Problems of an approve / reject body, per field (none when the body is absent).</summary>
    public static Dictionary<string, string[]> Validate(DecisionBody? body)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body?.Comment is { Length: > MaxCommentLength })
        {
            errors["comment"] = [$"at most {MaxCommentLength} characters"];
        }

        return errors;
    }

    /// <summary>Problems of a cancel / rollback body, per field (none when the body is absent).</summary>
    public static Dictionary<string, string[]> Validate(ReasonBody? body)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body?.Reason is { Length: > MaxReasonLength })
        {
            errors["reason"] = [$"at most {MaxReasonLength} characters"];
        }

        return errors;
    }

    /// <summary>Problems of a rollback body, per field (none when the body is absent).</summary>
    public static Dictionary<string, string[]> Validate(RollbackBody? body) => Validate(body is null ? null : new ReasonBody(body.Reason));

    /// <summary>A refused value as an error message may repeat it: at most <see cref="MaxEcho"/> characters, no control characters.</summary>
    public static string Echo(string? value)
    {
        if (value is null)
        {
            return string.Empty;
        }

        var shown = value.Length <= MaxEcho ? value : value[..MaxEcho] + "…";
        return string.Create(shown.Length, shown, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }

    private static string[] CreateTimeFormats()
    {
        var clocks = new List<string> { "HH:mm", "HH:mm:ss" };
        for (var digits = 1; digits <= 7; digits++)
        {
            clocks.Add("HH:mm:ss." + new string('f', digits));
        }

        return clocks.SelectMany(clock => new[] { $"yyyy-MM-dd'T'{clock}'Z'", $"yyyy-MM-dd'T'{clock}zzz" }).ToArray();
    }

    private static RestoreMode? ParseMode(string? value, Dictionary<string, string[]> errors)
    {
        var mode = ParseModeName(value);
        if (mode is null)
        {
            errors["mode"] = [$"'{Echo(value)}' is not a mode: use restore, dry-run or snapshot"];
        }

        return mode;
    }

    private static CutoverStrategy? ParseStrategy(string? value, Dictionary<string, string[]> errors)
    {
        var strategy = ParseStrategyName(value);
        if (strategy is null)
        {
            errors["strategy"] = [$"'{Echo(value)}' is not a strategy: use swap-and-keep or flip-the-ref"];
        }

        return strategy;
    }
}

/// <summary>A validated start request.</summary>
public sealed record ParsedStart(TenantSlug Tenant, DateTimeOffset RestoreTime, RestoreMode Mode, CutoverStrategy Strategy, string Reason, TransferMode Transfer = TransferMode.Streaming);

/// <summary>A validated batch start: the listed tenants (empty when <paramref name="Server"/> chooses them) and the shared fields.</summary>
public sealed record ParsedBatch(IReadOnlyList<TenantSlug> Tenants, string? Server, ParsedStart Common, int? Parallelism);
