using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Tests.Restores;

public sealed class RestoreStatusBudgetTests
{
    /// <summary>The Durable Functions storage provider's cap on a custom status.</summary>
    private const int ProviderCap = 16 * 1024;

    private static readonly JsonSerializerOptions HostJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private static readonly DateTime At = new(2026, 4, 22, 14, 30, 0, DateTimeKind.Utc);

    [Fact]
    public void Fit_ASmallStatus_IsPublishedAsItIs()
    {
        var status = Status(Parity(rows: 5, failing: [2]), steps: 12, attemptsPerStep: 1, refusedDecisions: 1, reasonLength: 100);

        var fitted = RestoreStatusBudget.Fit(status);

        Assert.Equal(Serialize(status), Serialize(fitted));
    }

    [Fact]
    public void Fit_HundredsOfCanaryTables_KeepsTheVerdictAndEveryFailingRowUnderTheProviderCap()
    {
        var status = Status(Parity(rows: 400, failing: [17, 250, 399]), steps: 12, attemptsPerStep: 0, refusedDecisions: 0);
        Assert.True(Size(status) > ProviderCap, "the scenario must exceed the cap without the budget");

        var fitted = RestoreStatusBudget.Fit(status);

        Assert.InRange(Size(fitted), 1, RestoreStatusBudget.DefaultMaxBytes);
        var parity = fitted.Parity!;
        Assert.Equal(ParityVerdict.Fail, parity.Verdict);
        Assert.Equal(["public.t017", "public.t250", "public.t399"], parity.Rows.Where(r => r.Verdict == ParityVerdict.Fail).Select(r => r.Table));
        Assert.Equal(400, parity.Rows.Count + (parity.RowsOmitted ?? 0));
        Assert.NotNull(parity.RowsOmitted);
        Assert.Equal(status.Steps.Select(s => (s.Name, s.Outcome)), fitted.Steps.Select(s => (s.Name, s.Outcome)));
    }

    [Fact]
    public void Fit_ChangeSummaryOfHundredsOfTables_KeepsTheTotalsAndTheMostChangedTablesUnderTheProviderCap()
    {
        var tables = Enumerable.Range(0, 300)
            .Select(i => new TableChangeCount($"schema_with_a_long_name_{i:000}.table_with_a_long_name_{i:000}", TableMatch.PrimaryKey, 1000 - i, i, 3, false))
            .ToList();
        var changes = new ChangeSummary(false, 12.5, 320, 300, tables.Sum(t => t.OnlyInLive), tables.Sum(t => t.OnlyInCopy), 900, tables);
        var status = Status(Parity(rows: 5, failing: []), steps: 12, attemptsPerStep: 0, refusedDecisions: 0) with { Changes = changes };
        Assert.True(Size(status) > ProviderCap, "the scenario must exceed the cap without the budget");

        var fitted = RestoreStatusBudget.Fit(status);

        Assert.InRange(Size(fitted), 1, RestoreStatusBudget.DefaultMaxBytes);
        var kept = fitted.Changes!;
        Assert.Equal((changes.TablesChanged, changes.OnlyInLive, changes.OnlyInCopy, changes.Different), (kept.TablesChanged, kept.OnlyInLive, kept.OnlyInCopy, kept.Different));
        Assert.NotEmpty(kept.Tables);
        Assert.Equal(tables.Take(kept.Tables.Count), kept.Tables);
        Assert.Equal(300, kept.Tables.Count + kept.TablesOmitted);
    }

    [Fact]
    public void Fit_LongRetriedFailuresAndARequesterSpammingDecisions_KeepEveryStepAndEveryAcceptedDecision()
    {
        var status = Status(Parity(rows: 30, failing: []), steps: 22, attemptsPerStep: 5, refusedDecisions: 200);
        Assert.True(Size(status) > 10 * ProviderCap, "the scenario must exceed the cap many times over");

        var fitted = RestoreStatusBudget.Fit(status);

        Assert.InRange(Size(fitted), 1, RestoreStatusBudget.DefaultMaxBytes);
        Assert.Equal(status.Steps.Select(s => (s.Name, s.Outcome, s.StartedAt, s.EndedAt)), fitted.Steps.Select(s => (s.Name, s.Outcome, s.StartedAt, s.EndedAt)));
        Assert.Equal(status.Decisions!.Where(d => d.Accepted).Select(d => (d.At, d.By, d.Decision)), fitted.Decisions!.Where(d => d.Accepted).Select(d => (d.At, d.By, d.Decision)));
        Assert.Equal(ParityVerdict.Pass, fitted.Parity!.Verdict);
    }

    private static RestoreStatus Status(ParityReport parity, int steps, int attemptsPerStep, int refusedDecisions, int reasonLength = 2000)
    {
        var reason = "could not connect to server: " + new string('x', reasonLength);
        var timeline = Enumerable.Range(0, steps).Select(i => new TimelineStep(
            $"step {i}", At.AddMinutes(i), At.AddMinutes(i + 1), "succeeded", $"detail of step {i}",
            attemptsPerStep == 0 ? null : Enumerable.Range(1, attemptsPerStep).Select(a => new StepAttempt(a, "MoveTenant", At.AddMinutes(i), reason, At.AddMinutes(i).AddSeconds(15))).ToList())).ToList();
        var decisions = Enumerable.Range(0, refusedDecisions)
            .Select(i => new DecisionRecord(At.AddSeconds(i), "alice", "approve", Accepted: false, "the requester cannot also approve " + new string('y', 200)))
            .Append(new DecisionRecord(At.AddHours(1), "bob", "approve", Accepted: true, "counts as expected"))
            .ToList();
        return new RestoreStatus("acme", "Restore", "20260422143000", "running", AwaitingApproval: false, timeline, parity, null, null, decisions);
    }

    private static ParityReport Parity(int rows, int[] failing) =>
        ParityReport.From("tenant_acme", "tenant_acme_restore_20260422143000_abcdef", Enumerable.Range(0, rows)
            .Select(i => failing.Contains(i)
                ? new ParityRow($"public.t{i:000}", 1000, null, ParityVerdict.Fail, "table missing in the restored copy")
                : new ParityRow($"public.t{i:000}", 1000 + i, 990 + i, ParityVerdict.Pass, "within the expected range"))
            .ToList());

    private static string Serialize(RestoreStatus status) => JsonSerializer.Serialize(status, HostJson);

    private static int Size(RestoreStatus status) => Encoding.UTF8.GetByteCount(Serialize(status));
}
