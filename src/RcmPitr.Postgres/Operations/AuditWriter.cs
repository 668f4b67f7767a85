using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Errors;
using RcmPitr.Workflow.Naming;

namespace RcmPitr.Postgres.Operations;

/// <summary>Runbook step 9: the <c>TENANT_PITR_*</c> audit row, written once per run and event.</summary>
public sealed class AuditWriter(ControlPlaneDatabase master)
{
    /// <summary>The idempotency key of a run's event.</summary>
    public static string KeyFor(string runId, string auditEvent) => $"{runId}:{auditEvent}";

    /// <summary>Writes the row, or finds the one an earlier attempt wrote.</summary>
    public async Task<WriteAuditResult> WriteAsync(WriteAuditInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RunIds.Require(input.RunId);
        if (!AuditEvents.All.Contains(input.Event))
        {
            throw new InvalidRestoreInputException("event", $"'{input.Event}' is not an audit event RcmPitr writes ({string.Join(", ", AuditEvents.All)})");
        }

        await using var connection = await master.OpenAsync(cancellationToken);
        var (id, inserted) = await AuditRows.InsertAsync(
            connection, null, KeyFor(runId, input.Event), input.TenantId, input.Event, input.Actor, input.Reason,
            input.Details ?? new Dictionary<string, string>(), cancellationToken);
        return new WriteAuditResult(id, inserted);
    }

    /// <summary>
    /// Whether the row of <paramref name="auditEvent"/> is the run's first (lowest id) among its rows of <paramref name="events"/>:
    /// a run that wrote two final events (restored, then a later step failed) ended once, at the first.
    /// </summary>
    public async Task<bool> IsFirstOfAsync(string runId, string auditEvent, IReadOnlyCollection<string> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var run = RunIds.Require(runId);
        await using var connection = await master.OpenAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT idempotency_key FROM identity.tenant_audit WHERE idempotency_key = ANY($1) ORDER BY id LIMIT 1", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = events.Select(e => KeyFor(run, e)).ToArray() });
        return await command.ExecuteScalarAsync(cancellationToken) is string first && first == KeyFor(run, auditEvent);
    }
}
