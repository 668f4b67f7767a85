using System.Globalization;
using RcmPitr.Postgres.Operations;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Drills;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Api.Drills;

/// <summary>
/// Which tenants a restore drill takes and how far back it restores (section <c>DryRun</c>, the runbook's quarterly dry run;
/// the schedule itself is the <c>DryRunSchedule</c> cron setting).
/// </summary>
public sealed class DrillScheduleOptions
{
    /// <summary>Comma-separated tenant slugs to drill; empty: every tenant of every registered server.</summary>
    public string Tenants { get; set; } = string.Empty;

    /// <summary>How far in the past the drill's restore point is (it must be inside retention).</summary>
    public TimeSpan RestorePointAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The slugs, trimmed.</summary>
    public IReadOnlyList<string> TenantList => Tenants.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>What starting a drill did: the drills started (one per 50 tenants) and the tenants it could not take, with why.</summary>
public sealed record DrillStart(IReadOnlyList<string> DrillIds, IReadOnlyList<DrillSkip> Skipped, DateTimeOffset RestoreTime, bool AlreadyStarted);


/// <summary>
/// Starts restore drills — from the schedule (the Functions timer, the embedded host's scheduler) or on request: one batch of
/// dry runs per at most 50 tenants, sharing one restored server per source server, each recording its report when its
/// members end. Every tenant is checked as a dry run started by hand would be; one that cannot be drilled now (busy with
/// another run, unknown, outside retention) is skipped with its reason, and the others are drilled.
/// </summary>
public sealed class DrillStarter(
    IRestoreRuns runs, RestoreApiHandlers restores, TenantResolver tenants, RestoreSettings settings, BatchSettings batchSettings, DrillScheduleOptions options, TimeProvider time)
{
    /// <summary>Every drill id starts with this.</summary>
    public const string IdPrefix = "drill-";

    /// <summary>
    /// Starts a drill of <paramref name="requested"/> (null: the configured tenants, else every tenant). <paramref name="occurrence"/>
    /// names a scheduled drill after its occurrence, so a second scheduler (or a restart) never starts the same one twice.
    /// </summary>
    public async Task<DrillStart> StartAsync(IReadOnlyList<string>? requested, string requestedBy, string? requestedById, DateTimeOffset? occurrence, CancellationToken ct)
    {
        var restoreTime = RestoreStamp.WholeSecond(time.GetUtcNow() - options.RestorePointAge);
        var slugs = requested ?? (options.TenantList.Count > 0 ? options.TenantList : (await tenants.AllTenantsAsync(ct)).Select(t => t.Slug).ToList());
        var members = new List<BatchMember>();
        var skipped = new List<DrillSkip>();
        var tag = occurrence is { } at ? at.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture) : $"{RestoreStamp.From(restoreTime).Value}-{Guid.NewGuid().ToString("N")[..8]}";
        var stamp = RestoreStamp.From(restoreTime).Value;
        foreach (var value in slugs.Distinct(StringComparer.Ordinal))
        {
            if (!TenantSlug.TryParse(value, out var slug, out var problem))
            {
                skipped.Add(new DrillSkip(RequestValidation.Echo(value), problem));
                continue;
            }

            var check = new ParsedStart(slug!, restoreTime, RestoreMode.DryRun, CutoverStrategy.SwapAndKeep, "restore drill", TransferMode.Streaming);
            var (tenant, refusal) = await restores.CheckTenantAsync(slug!.Value, check, ct);
            if (tenant is null)
            {
                skipped.Add(new DrillSkip(slug.Value, $"{refusal!.Title}: {refusal.Detail}"));
                continue;
            }

            members.Add(new BatchMember(slug.Value, $"{RestoreApiHandlers.RunIdPrefix(slug.Value)}{stamp}-drill-{tag.Replace("-", string.Empty, StringComparison.Ordinal)[^8..]}", tenant.Server.Name));
        }

        var ids = new List<string>();
        var already = false;
        var chunks = members.Chunk(RestoreBatchRequest.MaxMembers).ToList();
        for (var i = 0; i < chunks.Count; i++)
        {
            var id = $"{IdPrefix}{tag}{(chunks.Count == 1 ? string.Empty : $"-{i + 1}")}";
            var request = new RestoreBatchRequest(chunks[i], restoreTime, RestoreMode.DryRun, CutoverStrategy.SwapAndKeep, "restore drill (the runbook's quarterly dry run)", requestedBy, "drill")
            {
                RequestedById = requestedById,
                Parallelism = Math.Clamp(batchSettings.Parallelism, 1, BatchSettings.MaxParallelism),
                PollInterval = batchSettings.PollInterval > TimeSpan.Zero ? batchSettings.PollInterval : BatchSettings.DefaultPollInterval,
                MaxPollInterval = batchSettings.MaxPollInterval,
                Settings = settings,
                Drill = true,
                Skipped = i == 0 ? skipped : [],
            };
            try
            {
                await runs.StartBatchAsync(id, request, ct);
            }
            catch (RunExistsException)
            {
                already = true;
            }

            ids.Add(id);
        }

        return new DrillStart(ids, skipped, restoreTime, already);
    }
}
