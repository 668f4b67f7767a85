using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Npgsql;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Api;

/// <summary>
/// What each route of the restores API does — start, status (Durable's status-query semantics), approve /
/// reject (four eyes), cancel, rollback, list — independent of the engine and of how the caller was
/// authenticated: the host passes the authenticated principal in.
/// </summary>
/// <remarks>
/// The status of a single run carries the live progress of its database transfer (<c>customStatus.transfer</c>)
/// when <paramref name="progress"/> is given: activities cannot write an orchestration's custom status, so the
/// transfer step writes its progress to the control plane and the status route merges it in.
/// </remarks>
public sealed class RestoreApiHandlers(
    IRestoreRuns runs, TenantResolver tenants, IServerProvisioner provisioner, RestoreSettings settings, TimeProvider time, TransferProgressStore? progress = null)
{
    /// <summary>Seconds a poller should wait between status requests while a run is active.</summary>
    public const int RetryAfterSeconds = 10;

    /// <summary>The routes' common prefix.</summary>
    public const string Route = "/api/restores";

    /// <summary><c>POST /api/restores</c>.</summary>
    public async Task<IResult> StartAsync(StartRestoreBody? body, Principal principal, HttpContext http, CancellationToken ct)
    {
        var (parsed, errors) = RequestValidation.Validate(body, time.GetUtcNow());
        if (parsed is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The restore request is invalid.");
        }

        TenantInfo tenant;
        try
        {
            tenant = await tenants.ResolveAsync(new ResolveTenantInput(parsed.Tenant.Value, RequireActive: parsed.Mode == RestoreMode.Restore), ct);
        }
        catch (TenantNotFoundException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown tenant", detail: e.Message);
        }
        catch (TenantStatusConflictException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Tenant not active", detail: e.Message);
        }

        var earliest = await provisioner.GetEarliestRestoreTimeAsync(tenant.Server, ct);
        if (parsed.RestoreTime < earliest)
        {
            return Invalid("restoreTime", $"{parsed.RestoreTime.UtcDateTime:O} is outside the retention window: the earliest restorable time of {tenant.Server.Name} is {earliest.UtcDateTime:O}");
        }

        var stamp = RestoreStamp.From(parsed.RestoreTime);
        try
        {
            ServerNames.Pitr(tenant.Server.Name, stamp);
        }
        catch (InvalidRestoreInputException e)
        {
            return Invalid("tenant", e.Message);
        }

        var request = new RestoreRequest(parsed.Tenant.Value, parsed.RestoreTime, parsed.Mode, parsed.Strategy, parsed.Reason, principal.Name) { Settings = settings, Transfer = parsed.Transfer, RequestedById = principal.Id };
        var id = $"{RunIdPrefix(parsed.Tenant.Value)}{stamp.Value}-{Guid.NewGuid().ToString("N")[..8]}";
        try
        {
            await runs.StartAsync(RestoreTenantOrchestrator.Name, id, request, parsed.Tenant.Value, ct);
        }
        catch (TenantBusyException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Tenant already being restored",
                detail: $"Tenant '{parsed.Tenant.Value}' already has an active run: {e.RunningInstanceId}. One restore per tenant at a time.");
        }

        return Accepted(http, id);
    }

    /// <summary><c>GET /api/restores/{id}</c>.</summary>
    public async Task<IResult> GetAsync(string id, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        var run = await runs.GetAsync(id, ct);
        if (run is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown run", detail: $"No run with id '{id}'.");
        }

        var status = ToStatus(run) with { CustomStatus = await WithTransferProgressAsync(run, ct) };
        if (run.IsActive)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Json(status, statusCode: StatusCodes.Status202Accepted);
        }

        return TypedResults.Json(status);
    }

    /// <summary><c>GET /api/restores?tenant=&amp;status=</c>.</summary>
    public async Task<IResult> ListAsync(string? tenant, string? status, CancellationToken ct)
    {
        if (tenant is not null && !TenantSlug.TryParse(tenant, out _, out var problem))
        {
            return Invalid("tenant", problem);
        }

        var statuses = new[] { "Pending", "Running", "Completed", "Failed", "Terminated" };
        var normalized = status is null ? null : statuses.FirstOrDefault(s => s.Equals(status, StringComparison.OrdinalIgnoreCase));
        if (status is not null && normalized is null)
        {
            return Invalid("status", $"use one of {string.Join(", ", statuses)}");
        }

        var list = await runs.ListAsync(tenant, normalized, ct);
        return TypedResults.Json(list.Select(ToStatus).ToList());
    }

    /// <summary><c>POST /api/restores/{id}/approve</c> and <c>/reject</c>.</summary>
    public async Task<IResult> DecideAsync(string id, bool approved, DecisionBody? body, Principal principal, CancellationToken ct)
    {
        var run = await runs.GetAsync(id, ct);
        if (run is null || run.Name != RestoreTenantOrchestrator.Name)
        {
            return UnknownRun(id);
        }

        var status = ApiJson.Read<RestoreStatus>(run.CustomStatus);
        if (!run.IsActive || status is not { AwaitingApproval: true })
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not awaiting approval",
                detail: $"Run '{id}' is {run.RuntimeStatus}{(status is null ? string.Empty : $" ({status.Phase})")} and is not waiting for a decision.");
        }

        var request = ApiJson.Read<RestoreRequest>(run.Input)!;
        if (principal.Is(request.RequesterId))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Four eyes",
                detail: $"'{principal.Name}' requested this restore and cannot also {(approved ? "approve" : "reject")} it.");
        }

        await runs.RaiseEventAsync(id, RestoreEvents.Approval, new ApprovalDecision(approved, principal.Name, body?.Comment, principal.Id), ct);
        return TypedResults.Json(new { id, decision = approved ? "approved" : "rejected", by = principal.Name }, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary><c>POST /api/restores/{id}/cancel</c>.</summary>
    public async Task<IResult> CancelAsync(string id, ReasonBody? body, Principal principal, CancellationToken ct)
    {
        var run = await runs.GetAsync(id, ct);
        if (run is null || run.Name != RestoreTenantOrchestrator.Name)
        {
            return UnknownRun(id);
        }

        if (!run.IsActive)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not running", detail: $"Run '{id}' is {run.RuntimeStatus}.");
        }

        await runs.RaiseEventAsync(id, RestoreEvents.Cancel, new CancelRequest(principal.Name, body?.Reason), ct);
        return TypedResults.Json(new { id, message = "cancel requested: the run stops at its next step and undoes what it did (a cutover already under way is finished, not undone)" },
            statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary><c>POST /api/restores/{id}/rollback</c>.</summary>
    public async Task<IResult> RollbackAsync(string id, ReasonBody? body, Principal principal, HttpContext http, CancellationToken ct)
    {
        var run = await runs.GetAsync(id, ct);
        if (run is null || run.Name != RestoreTenantOrchestrator.Name)
        {
            return UnknownRun(id);
        }

        var request = ApiJson.Read<RestoreRequest>(run.Input)!;
        var result = run.RuntimeStatus == "Completed" ? ApiJson.Read<RestoreResult>(run.Output) : null;
        if (result?.Outcome != RestoreOutcome.Restored || request.Strategy != CutoverStrategy.SwapAndKeep)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to roll back",
                detail: $"Run '{id}' did not complete a swap-and-keep cutover ({run.RuntimeStatus}{(result is null ? string.Empty : $", {result.Outcome}")}).");
        }

        var rollbackId = id + "-rollback";
        try
        {
            await runs.StartAsync(RollbackOrchestrator.Name, rollbackId, new RollbackRequest(id, request.Tenant, request.RestoreTime, body?.Reason ?? "rollback requested", principal.Name), request.Tenant, ct);
        }
        catch (RunExistsException)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Rollback already requested", detail: $"See run '{rollbackId}'.");
        }
        catch (TenantBusyException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Tenant busy", detail: $"Run '{e.RunningInstanceId}' is active for this tenant.");
        }

        return Accepted(http, rollbackId);
    }

    private async Task<object?> WithTransferProgressAsync(RunInfo run, CancellationToken ct)
    {
        if (progress is null || run.CustomStatus is not { ValueKind: JsonValueKind.Object } custom)
        {
            return run.CustomStatus;
        }

        TransferProgress? row;
        try
        {
            row = await progress.GetAsync(run.InstanceId, ct);
        }
        catch (NpgsqlException)
        {
            // A master without RcmPitr's progress table (or briefly unreachable): the status goes out without it.
            return run.CustomStatus;
        }

        if (row is null)
        {
            return run.CustomStatus;
        }

        var merged = JsonObject.Create(custom)!;
        merged["transfer"] = JsonSerializer.SerializeToNode(
            new TransferStatus(row.Mode, row.Phase, row.TablesDone, row.TablesTotal, row.BytesMoved, row.StartedAt.UtcDateTime, row.UpdatedAt.UtcDateTime, row.ProgressedAt.UtcDateTime, row.Error),
            ApiJson.Options);
        return merged;
    }

    /// <summary>
    /// Run ids of a tenant start with this (the Functions host lists a tenant's runs by it). Slugs never contain
    /// <c>--</c>, so one tenant's prefix is never the prefix of another's (<c>acme</c> vs <c>acme-corp</c>).
    /// </summary>
    public static string RunIdPrefix(string tenant) => $"restore-{tenant}--";

    private static IResult Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The restore request is invalid.");

    private static IResult UnknownRun(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown run", detail: $"No restore run with id '{id}'.");

    private static IResult Accepted(HttpContext http, string id)
    {
        var root = $"{http.Request.Scheme}://{http.Request.Host}{Route}/{Uri.EscapeDataString(id)}";
        return TypedResults.Accepted(root, new RunLinks(id, root, root + "/approve", root + "/reject", root + "/cancel", root + "/rollback"));
    }

    private static RunStatus ToStatus(RunInfo run) => new(
        run.InstanceId, run.Name, run.RuntimeStatus, run.CreatedTime, run.LastUpdatedTime, run.Input, run.CustomStatus,
        run.RuntimeStatus == "Failed" ? run.FailureMessage : run.Output);
}
