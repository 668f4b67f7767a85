using System.Globalization;
using System.Text.Json;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Drills;
using RcmPitr.Workflow.Naming;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Api.Drills;

/// <summary>
/// The drill's last activity: for every member it reads the member's dry run as its status shows it (phases, transfer bytes,
/// parity), checks the as-of copy's canary counts against the tenant's known-good reference (an earlier passed drill of the
/// same restore time — equal counts —, else the last passed drill — no table shrunk below <see cref="DrillOptions.MinRatioToPrevious"/>
/// of it nor emptied —, and the configured expectations), decides pass or fail with the reason, and records it. Idempotent: a
/// re-record replaces the drill's rows, and the references never include the drill itself.
/// </summary>
public sealed class DrillRecorder(IRestoreRuns runs, DrillResultStore results, DrillOptions options, ParityReportStore? parityReports = null, TransferProgressStore? progress = null)
{
    /// <summary>Records every member's result; returns how many passed and failed.</summary>
    public async Task<RecordDrillResult> RecordAsync(RecordDrillInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var drillId = RunIds.Require(input.DrillId);
        var passed = 0;
        foreach (var member in input.Members)
        {
            var result = await ResultOfAsync(drillId, input.RestoreTime, member, cancellationToken);
            await results.WriteAsync(drillId, input.RestoreTime, result, cancellationToken);
            passed += result.Passed ? 1 : 0;
        }

        foreach (var skip in input.Skipped ?? [])
        {
            var reference = new DrillReference("none", null, false, "not drilled");
            await results.WriteAsync(drillId, input.RestoreTime, new DrillTenantResult(
                skip.Tenant, string.Empty, string.Empty, false, $"not drilled: {skip.Reason}", null, null, null, [], null, null, [], reference), cancellationToken);
        }

        return new RecordDrillResult(passed, input.Members.Count - passed + (input.Skipped?.Count ?? 0));
    }

    private async Task<DrillTenantResult> ResultOfAsync(string drillId, DateTimeOffset restoreTime, DrillMemberEnd member, CancellationToken cancellationToken)
    {
        var run = member.State == BatchMemberStates.NotStarted ? null : await runs.GetAsync(RunIds.Require(member.RunId), cancellationToken);
        var status = run is null ? null : ApiJson.Read<RestoreStatus>(run.CustomStatus is { ValueKind: JsonValueKind.Object } ? run.CustomStatus : null);
        var phases = status?.Steps.Where(s => s.EndedAt is not null).Select(s => new DrillPhase(s.Name, Math.Round((s.EndedAt!.Value - s.StartedAt).TotalSeconds, 3), s.Outcome)).ToList() ?? [];
        var parity = (parityReports is null ? null : await parityReports.GetAsync(member.RunId, cancellationToken)) ?? status?.Parity;
        var counts = parity?.Rows.Select(r => new DrillCount(r.Table, r.RestoredCount)).ToList() ?? [];
        var bytes = progress is null ? null : (await progress.GetAsync(member.RunId, cancellationToken))?.BytesMoved;
        double? seconds = run is { IsActive: false } ? Math.Round((run.LastUpdatedTime - run.CreatedTime).TotalSeconds, 3) : null;
        var reference = await ReferenceOfAsync(drillId, restoreTime, member.Tenant, counts, cancellationToken);

        var (ok, reason) = member.State switch
        {
            BatchMemberStates.NotStarted => (false, $"not drilled: {member.Detail}"),
            BatchMemberStates.Succeeded when parity?.Verdict == ParityVerdict.Fail => (false, "the as-of copy failed its parity probe"),
            // Nothing counted is nothing verified: such a result must never become a later drill's reference.
            BatchMemberStates.Succeeded when counts.All(c => c.Rows is null) => (false, "no canary table of the as-of copy could be counted, so it could not be checked"),
            BatchMemberStates.Succeeded when !reference.Matched => (false, $"the as-of copy does not match its reference: {reference.Detail}"),
            BatchMemberStates.Succeeded => (true, $"dry run completed; parity {parity?.Verdict.ToString() ?? "not probed"}; {reference.Detail}"),
            _ => (false, $"the dry run {member.State}: {member.Detail ?? "see its status"}"),
        };
        return new DrillTenantResult(
            member.Tenant, member.RunId, member.Server, ok, reason, run?.CreatedTime, run is { IsActive: false } ? run.LastUpdatedTime : null, seconds,
            phases, bytes, parity?.Verdict.ToString(), counts, reference);
    }

    private async Task<DrillReference> ReferenceOfAsync(string drillId, DateTimeOffset restoreTime, string tenant, IReadOnlyList<DrillCount> counts, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var expectation in options.Expectations.Where(e => e.Tenant == tenant))
        {
            var rows = counts.FirstOrDefault(c => c.Table == expectation.Table)?.Rows;
            if (rows is null)
            {
                problems.Add($"{expectation.Table}: expected, but not counted (is it a canary table?)");
            }
            else if (rows < expectation.MinRows || rows > expectation.MaxRows)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{expectation.Table}: {rows} rows, expected {expectation.MinRows?.ToString(CultureInfo.InvariantCulture) ?? "any"}–{expectation.MaxRows?.ToString(CultureInfo.InvariantCulture) ?? "any"}"));
            }
        }

        var expectations = options.Expectations.Count(e => e.Tenant == tenant);
        var (sameTime, sameTimeDrill, previous, previousDrill) = await results.ReferencesAsync(tenant, drillId, restoreTime, cancellationToken);
        string kind;
        string? against;
        if (sameTime is not null)
        {
            // The same restore time must bring back exactly the same rows.
            kind = "same-time";
            against = sameTimeDrill;
            foreach (var earlier in sameTime.Counts)
            {
                var now = counts.FirstOrDefault(c => c.Table == earlier.Table)?.Rows;
                if (now != earlier.Rows)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{earlier.Table}: {Show(now)} rows, drill {sameTimeDrill} of the same time had {Show(earlier.Rows)}"));
                }
            }
        }
        else if (previous is not null)
        {
            // An earlier time: tables grow and shrink a little, but a copy that lost most of a table is not a good restore.
            kind = "previous";
            against = previousDrill;
            foreach (var earlier in previous.Counts.Where(c => c.Rows is > 0))
            {
                var now = counts.FirstOrDefault(c => c.Table == earlier.Table)?.Rows;
                if (now is null or 0 || now < earlier.Rows * options.MinRatioToPrevious)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{earlier.Table}: {Show(now)} rows, below {options.MinRatioToPrevious:0.##} of the {earlier.Rows} in drill {previousDrill}"));
                }
            }
        }
        else
        {
            kind = expectations > 0 ? "expectation" : "none";
            against = null;
        }

        var matched = problems.Count == 0;
        var detail = matched
            ? kind switch
            {
                "same-time" => $"counts equal to drill {against} of the same restore time",
                "previous" => $"counts consistent with drill {against}",
                "expectation" => "counts within the configured expectations",
                _ => "no reference yet: this drill's counts become the reference",
            } + (expectations > 0 && kind != "expectation" ? " and the configured expectations" : string.Empty)
            : string.Join("; ", problems.Take(5));
        return new DrillReference(kind, against, matched, detail);
    }

    private static string Show(long? rows) => rows?.ToString(CultureInfo.InvariantCulture) ?? "no";
}
