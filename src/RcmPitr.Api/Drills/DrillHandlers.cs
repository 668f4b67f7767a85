using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using RcmPitr.Api.Batches;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Drills;

namespace RcmPitr.Api.Drills;

/// <summary>The body of <c>POST /api/drills</c>: the tenants to drill, or none for the configured ones (else every tenant).</summary>
public sealed record StartDrillBody(IReadOnlyList<string>? Tenants);

/// <summary>
/// The drill routes (<c>/api/drills</c>): start a drill now, list drills with how many tenants passed, and read one drill's
/// report — every tenant's phases, sizes, parity, reference check and verdict, with each tenant's restore durations over its
/// past drills (the history the drill page charts). Reading needs one of the roles: the report names tenants and servers.
/// </summary>
public sealed class DrillHandlers(IRestoreRuns runs, DrillStarter starter, DrillResultStore results, ApiLinkOptions? links = null)
{
    /// <summary>The routes' common prefix.</summary>
    public const string Route = "/api/drills";

    /// <summary>Past drills per tenant the report's history holds.</summary>
    public const int HistoryLength = 12;

    /// <summary><c>POST /api/drills</c>.</summary>
    public async Task<IResult> StartAsync(StartDrillBody? body, Principal principal, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(http);
        if (!principal.Has(PrincipalRoles.Requester))
        {
            return RestoreApiHandlers.Forbidden($"'{principal.Name}' does not hold the requester role and cannot start drills.");
        }

        if (body?.Tenants is { Count: > RestoreBatchRequest.MaxMembers * 10 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["tenants"] = [$"at most {RestoreBatchRequest.MaxMembers * 10} tenants per request"] }, title: "The drill request is invalid.");
        }

        var started = await starter.StartAsync(body?.Tenants, principal.Name, principal.Id, occurrence: null, ct);
        if (started.DrillIds.Count == 0)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to drill",
                detail: "No tenant can be drilled now: " + string.Join("; ", started.Skipped.Take(10).Select(s => $"{s.Tenant}: {s.Reason}")),
                extensions: new Dictionary<string, object?> { ["skipped"] = started.Skipped });
        }

        var root = (links ?? new ApiLinkOptions()).BaseFor(http.Request.Scheme, http.Request.Host.ToString()).TrimEnd('/');
        var self = $"{root}{Route}/{started.DrillIds[0]}";
        return TypedResults.Accepted(self, new
        {
            id = started.DrillIds[0],
            ids = started.DrillIds,
            statusQueryGetUri = self,
            page = $"{root}/drills/{started.DrillIds[0]}",
            restoreTime = started.RestoreTime,
            skipped = started.Skipped,
        });
    }

    /// <summary><c>GET /api/drills</c>: drills, newest first, with how many tenants passed and failed.</summary>
    public async Task<IResult> ListAsync(Principal principal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (!PrincipalRoles.All.Any(principal.Has))
        {
            return RestoreApiHandlers.Forbidden($"'{principal.Name}' holds no role and cannot read drill reports.");
        }

        var drills = await runs.ListBatchesAsync(DrillStarter.IdPrefix, ct);
        var counts = await results.CountsAsync(drills.Select(d => d.InstanceId).ToList(), ct);
        return TypedResults.Json(drills.Select(d =>
        {
            var request = ApiJson.Read<RestoreBatchRequest>(d.Input);
            var (passed, failed) = counts.TryGetValue(d.InstanceId, out var c) ? c : (0, 0);
            return new DrillListItem(d.InstanceId, d.RuntimeStatus, d.CreatedTime, d.IsActive ? null : d.LastUpdatedTime, request?.RestoreTime, request?.RequestedBy,
                (request?.Members.Count ?? 0) + (request?.Skipped.Count ?? 0), passed, failed);
        }).ToList(), ApiJson.Options);
    }

    /// <summary><c>GET /api/drills/{id}</c>: the drill's report (202 with its progress while it runs).</summary>
    public async Task<IResult> GetAsync(string id, Principal principal, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(http);
        if (!PrincipalRoles.All.Any(principal.Has))
        {
            return RestoreApiHandlers.Forbidden($"'{principal.Name}' holds no role and cannot read drill reports.");
        }

        if (!id.StartsWith(DrillStarter.IdPrefix, StringComparison.Ordinal) || await runs.GetAsync(id, ct) is not { Name: RestoreBatchOrchestrator.Name } drill ||
            ApiJson.Read<RestoreBatchRequest>(drill.Input) is not { Drill: true } request)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown drill", detail: $"No drill with id '{RequestValidation.Echo(id)}'.");
        }

        var tenants = await results.ForDrillAsync(id, ct);
        var slugs = request.Members.Select(m => m.Tenant).Concat(request.Skipped.Select(s => s.Tenant)).Distinct(StringComparer.Ordinal).ToList();
        var history = await results.HistoryAsync(slugs, HistoryLength, ct);
        var report = new DrillReportView(
            id,
            drill.RuntimeStatus,
            request.RestoreTime,
            drill.CreatedTime,
            drill.IsActive ? null : drill.LastUpdatedTime,
            request.RequestedBy,
            tenants.Count(t => t.Passed),
            tenants.Count(t => !t.Passed),
            tenants,
            history,
            drill.CustomStatus,
            ApiJson.Read<RestoreBatchResult>(drill.Output is { ValueKind: JsonValueKind.Object } ? drill.Output : null)?.Detail);
        if (drill.IsActive)
        {
            http.Response.Headers.RetryAfter = RestoreApiHandlers.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Json(report, ApiJson.Options, statusCode: StatusCodes.Status202Accepted);
        }

        return TypedResults.Json(report, ApiJson.Options);
    }
}

/// <summary>A drill in the list.</summary>
public sealed record DrillListItem(string Id, string RuntimeStatus, DateTime CreatedTime, DateTime? EndedTime, DateTimeOffset? RestoreTime, string? RequestedBy, int Tenants, int Passed, int Failed);

/// <summary>A drill's report as <c>GET /api/drills/{id}</c> returns it.</summary>
/// <param name="Tenants">Every tenant's result (empty while the drill runs: results are recorded when its members have ended).</param>
/// <param name="History">Each tenant's last drills (this one included once recorded), oldest first: the restore durations the page charts.</param>
/// <param name="Batch">The drill's batch status: every member's live state while it runs.</param>
public sealed record DrillReportView(
    string Id,
    string RuntimeStatus,
    DateTimeOffset RestoreTime,
    DateTime CreatedTime,
    DateTime? EndedTime,
    string RequestedBy,
    int Passed,
    int Failed,
    IReadOnlyList<DrillTenantResult> Tenants,
    IReadOnlyList<DrillHistoryPoint> History,
    JsonElement? Batch,
    string? Detail);
