using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RcmPitr.Engine.History;
using RcmPitr.Engine.Hosting;
using RcmPitr.Engine.Storage;
using RcmPitr.Host.Composition;
using RcmPitr.Postgres.Operations;
using RcmPitr.Postgres.Provisioning;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Host.Api;

/// <summary>
/// The HTTP API of restores — the same routes and JSON on the embedded host and on Azure Functions:
/// start, status (Durable's status-query semantics), approve / reject (four eyes), cancel, rollback, list.
/// </summary>
public static class RestoresApi
{
    /// <summary>Seconds a poller should wait between status requests while a run is active.</summary>
    public const int RetryAfterSeconds = 10;

    /// <summary>Maps the routes under <c>/api/restores</c>, all behind <see cref="ApiKeys"/>.</summary>
    public static RouteGroupBuilder MapRestoresApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/restores").AddEndpointFilter<ApiKeys>();
        group.MapPost("/", StartAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPost("/{id}/approve", (string id, DecisionBody? body, HttpContext http, EngineClient engine, CancellationToken ct) => DecideAsync(id, true, body, http, engine, ct));
        group.MapPost("/{id}/reject", (string id, DecisionBody? body, HttpContext http, EngineClient engine, CancellationToken ct) => DecideAsync(id, false, body, http, engine, ct));
        group.MapPost("/{id}/cancel", CancelAsync);
        group.MapPost("/{id}/rollback", RollbackAsync);
        return group;
    }

    private static async Task<IResult> StartAsync(
        StartRestoreBody? body, HttpContext http, EngineClient engine, TenantResolver tenants, IServerProvisioner provisioner,
        RcmPitrOptions options, TimeProvider time, CancellationToken ct)
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
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["restoreTime"] = [$"{parsed.RestoreTime.UtcDateTime:O} is outside the retention window: the earliest restorable time of {tenant.Server.Name} is {earliest.UtcDateTime:O}"] },
                title: "The restore request is invalid.");
        }

        try
        {
            ServerNames.Pitr(tenant.Server.Name, RestoreStamp.From(parsed.RestoreTime));
        }
        catch (InvalidRestoreInputException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["tenant"] = [e.Message] }, title: "The tenant's server cannot be restored.");
        }

        var request = new RestoreRequest(parsed.Tenant.Value, parsed.RestoreTime, parsed.Mode, parsed.Strategy, parsed.Reason, ApiKeys.PrincipalOf(http)) { Settings = options.Restore };
        var id = $"restore-{parsed.Tenant.Value}-{RestoreStamp.From(parsed.RestoreTime).Value}-{Guid.NewGuid().ToString("N")[..8]}";
        try
        {
            await engine.StartAsync(RestoreTenantOrchestrator.Name, id, request, LockKeyFor(parsed.Tenant.Value), ct);
        }
        catch (LockKeyConflictException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Tenant already being restored",
                detail: $"Tenant '{parsed.Tenant.Value}' already has an active run: {e.RunningInstanceId}. One restore per tenant at a time.");
        }

        return Accepted(http, id);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, EngineClient engine, CancellationToken ct)
    {
        var instance = await engine.GetAsync(id, ct);
        if (instance is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown run", detail: $"No run with id '{id}'.");
        }

        if (instance.IsActive)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Json(ToStatus(instance), statusCode: StatusCodes.Status202Accepted);
        }

        return TypedResults.Json(ToStatus(instance));
    }

    private static async Task<IResult> ListAsync(string? tenant, string? status, EngineClient engine, CancellationToken ct)
    {
        if (tenant is not null && !TenantSlug.TryParse(tenant, out _, out var problem))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["tenant"] = [problem] });
        }

        var statuses = new[] { "Pending", "Running", "Completed", "Failed", "Terminated" };
        var normalized = status is null ? null : statuses.FirstOrDefault(s => s.Equals(status, StringComparison.OrdinalIgnoreCase));
        if (status is not null && normalized is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["status"] = [$"use one of {string.Join(", ", statuses)}"] });
        }

        var runs = await engine.ListAsync(name: null, tenant is null ? null : LockKeyFor(tenant), normalized, limit: 100, ct);
        return TypedResults.Json(runs.Where(r => r.Name != RetentionDropOrchestrator.Name || tenant is null).Select(ToStatus).ToList());
    }

    private static async Task<IResult> DecideAsync(string id, bool approved, DecisionBody? body, HttpContext http, EngineClient engine, CancellationToken ct)
    {
        var instance = await engine.GetAsync(id, ct);
        if (instance is null || instance.Name != RestoreTenantOrchestrator.Name)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown run", detail: $"No restore run with id '{id}'.");
        }

        var status = EngineJson.FromElement<RestoreStatus>(instance.CustomStatus);
        if (!instance.IsActive || status is not { AwaitingApproval: true })
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not awaiting approval",
                detail: $"Run '{id}' is {instance.RuntimeStatus}{(status is null ? string.Empty : $" ({status.Phase})")} and is not waiting for a decision.");
        }

        var principal = ApiKeys.PrincipalOf(http);
        var request = EngineJson.FromElement<RestoreRequest>(instance.Input)!;
        if (string.Equals(principal, request.RequestedBy, StringComparison.OrdinalIgnoreCase))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Four eyes",
                detail: $"'{principal}' requested this restore and cannot also {(approved ? "approve" : "reject")} it.");
        }

        await engine.RaiseEventAsync(id, RestoreEvents.Approval, new ApprovalDecision(approved, principal, body?.Comment), ct);
        return TypedResults.Json(new { id, decision = approved ? "approved" : "rejected", by = principal }, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> CancelAsync(string id, ReasonBody? body, HttpContext http, EngineClient engine, CancellationToken ct)
    {
        var instance = await engine.GetAsync(id, ct);
        if (instance is null || instance.Name != RestoreTenantOrchestrator.Name)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown run", detail: $"No restore run with id '{id}'.");
        }

        if (!instance.IsActive)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not running", detail: $"Run '{id}' is {instance.RuntimeStatus}.");
        }

        await engine.RaiseEventAsync(id, RestoreEvents.Cancel, new CancelRequest(ApiKeys.PrincipalOf(http), body?.Reason), ct);
        return TypedResults.Json(new { id, message = "cancel requested: the run stops at its next step and undoes what it did (a cutover already under way is finished, not undone)" },
            statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> RollbackAsync(string id, ReasonBody? body, HttpContext http, EngineClient engine, CancellationToken ct)
    {
        var instance = await engine.GetAsync(id, ct);
        if (instance is null || instance.Name != RestoreTenantOrchestrator.Name)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown run", detail: $"No restore run with id '{id}'.");
        }

        var request = EngineJson.FromElement<RestoreRequest>(instance.Input)!;
        var result = instance.RuntimeStatus == "Completed" ? EngineJson.FromElement<RestoreResult>(instance.Output) : null;
        if (result?.Outcome != RestoreOutcome.Restored || request.Strategy != CutoverStrategy.SwapAndKeep)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to roll back",
                detail: $"Run '{id}' did not complete a swap-and-keep cutover ({instance.RuntimeStatus}{(result is null ? string.Empty : $", {result.Outcome}")}).");
        }

        var rollbackId = id + "-rollback";
        var rollback = new RollbackRequest(id, request.Tenant, request.RestoreTime, body?.Reason ?? "rollback requested", ApiKeys.PrincipalOf(http));
        try
        {
            await engine.StartAsync(RollbackOrchestrator.Name, rollbackId, rollback, LockKeyFor(request.Tenant), ct);
        }
        catch (InstanceAlreadyExistsException)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Rollback already requested", detail: $"See run '{rollbackId}'.");
        }
        catch (LockKeyConflictException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Tenant busy", detail: $"Run '{e.RunningInstanceId}' is active for this tenant.");
        }

        return Accepted(http, rollbackId);
    }

    /// <summary>The lock key that allows one active run per tenant.</summary>
    public static string LockKeyFor(string tenant) => $"tenant:{tenant}";

    private static IResult Accepted(HttpContext http, string id)
    {
        var root = $"{http.Request.Scheme}://{http.Request.Host}/api/restores/{Uri.EscapeDataString(id)}";
        var links = new RunLinks(id, root, root + "/approve", root + "/reject", root + "/cancel", root + "/rollback");
        return TypedResults.Accepted(root, links);
    }

    private static RunStatus ToStatus(InstanceMetadata instance) => new(
        instance.InstanceId,
        instance.Name,
        instance.RuntimeStatus,
        instance.CreatedTime,
        instance.LastUpdatedTime,
        instance.Input,
        instance.CustomStatus,
        instance.RuntimeStatus == "Failed" ? instance.Failure?.ErrorMessage : instance.Output);
}
