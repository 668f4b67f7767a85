using System.Text.Json;
using Microsoft.DurableTask.Client;
using Moq;
using RcmPitr.Functions.Composition;
using RcmPitr.Postgres.ControlPlane;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Functions.Tests;

/// <summary>
/// A run's custom status stays within the storage provider's cap by leaving passing parity rows out; the status route
/// shows the full table from the master database, so the approver still sees every row.
/// </summary>
public sealed class ParityStatusFunctionsTests(FunctionsClusterFixture fx) : IAsyncLifetime
{
    private const string RunId = "restore-acme--20260422143000-abcd1234";
    private readonly Mock<DurableTaskClient> _client = new(MockBehavior.Strict, "test");
    private ControlPlaneDatabase _master = null!;

    public async ValueTask InitializeAsync() => _master = await fx.NewMasterAsync();

    public async ValueTask DisposeAsync() => await _master.DisposeAsync();

    [Fact]
    public async Task Get_StatusWithParityRowsLeftOut_ShowsTheFullTableFromTheMaster()
    {
        var rows = Enumerable.Range(0, 300).Select(i => new ParityRow($"public.canary_{i:000}", 10 + i, 10 + i, ParityVerdict.Pass, "equal")).ToList();
        var report = ParityReport.From("tenant_acme", "tenant_acme_restore_20260422143000_abcdef", rows);
        await new ParityReportStore(_master).WriteAsync(RunId, report, TestContext.Current.CancellationToken);
        var published = RestoreStatusBudget.Fit(new RestoreStatus("acme", "Restore", "20260422143000", "running", AwaitingApproval: true, [], report, null, null));
        Assert.NotNull(published.Parity!.RowsOmitted);
        SetupRun(published);

        var (status, _, body) = await FunctionsHttp.ExecuteAsync(FunctionsHttp.Functions(_master).Get(FunctionsHttp.Request("", "bob"), RunId, _client.Object));

        Assert.Equal(202, status);
        var parity = JsonDocument.Parse(body).RootElement.GetProperty("customStatus").GetProperty("parity");
        Assert.Equal(300, parity.GetProperty("rows").GetArrayLength());
        Assert.Equal("public.canary_299", parity.GetProperty("rows")[299].GetProperty("table").GetString());
        Assert.False(parity.TryGetProperty("rowsOmitted", out var omitted) && omitted.ValueKind != JsonValueKind.Null);
    }

    [Fact]
    public async Task Get_StatusWithTheWholeTable_IsLeftAsTheRunPublishedIt()
    {
        var report = ParityReport.From("tenant_acme", "tenant_acme_restore_20260422143000_abcdef", [new ParityRow("members.member", 10, 10, ParityVerdict.Pass, "equal")]);
        // A stale row in the master must not replace what the run itself published in full.
        await new ParityReportStore(_master).WriteAsync(RunId, report with { Rows = [] }, TestContext.Current.CancellationToken);
        SetupRun(new RestoreStatus("acme", "Restore", "20260422143000", "running", AwaitingApproval: true, [], report, null, null));

        var (_, _, body) = await FunctionsHttp.ExecuteAsync(FunctionsHttp.Functions(_master).Get(FunctionsHttp.Request("", "bob"), RunId, _client.Object));

        var parity = JsonDocument.Parse(body).RootElement.GetProperty("customStatus").GetProperty("parity");
        Assert.Equal(1, parity.GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public async Task GetChanges_ByAnyRole_ServesTheReportAndItsCsv_WithoutARole_Is403()
    {
        var members = new TableChanges("members.member", TableMatch.PrimaryKey, ["id"], 4, 5, 0, 1, 0, false, new([], [["5"]], []), false);
        await new ChangeReportStore(_master).WriteAsync(RunId, new ChangeReport(RunId, "tenant_acme", "tenant_acme_restore_x", DateTime.UnixEpoch, 0.2, false, [members]), TestContext.Current.CancellationToken);
        SetupRun(new RestoreStatus("acme", "Restore", "20260422143000", "running", AwaitingApproval: true, [], null, null, null));
        var functions = FunctionsHttp.Functions(_master);
        var roleless = FunctionsHttp.Request("");
        roleless.Headers[Http.RestoreHttpFunctions.PrincipalHeader] = ClientPrincipals.Blob(ClientPrincipals.OidOf("eve"), "eve");

        var (status, _, body) = await FunctionsHttp.ExecuteAsync(functions.Changes(FunctionsHttp.Request("", "bob"), RunId, _client.Object));
        var (csvStatus, _, csv) = await FunctionsHttp.ExecuteAsync(functions.ChangesCsv(FunctionsHttp.Request("", "bob"), RunId, _client.Object));
        var (refused, _, _) = await FunctionsHttp.ExecuteAsync(functions.Changes(roleless, RunId, _client.Object));

        Assert.Equal(200, status);
        Assert.Equal(1, JsonDocument.Parse(body).RootElement.GetProperty("onlyInCopy").GetInt64());
        Assert.Equal(200, csvStatus);
        Assert.Contains("members.member,only_in_copy,id,5", csv, StringComparison.Ordinal);
        Assert.Equal(403, refused);
    }

    private void SetupRun(RestoreStatus status)
    {
        var request = new RestoreRequest("acme", new DateTimeOffset(2026, 4, 22, 14, 30, 0, TimeSpan.Zero), RestoreMode.Restore, CutoverStrategy.SwapAndKeep, "r", "alice")
        {
            RequestedById = ClientPrincipals.OidOf("alice"),
        };
        _client.Setup(c => c.GetInstanceAsync(RunId, true, It.IsAny<CancellationToken>())).ReturnsAsync(new OrchestrationMetadata(RestoreTenantOrchestrator.Name, RunId)
        {
            RuntimeStatus = OrchestrationRuntimeStatus.Running,
            SerializedInput = JsonSerializer.Serialize(request, FunctionsServices.Json),
            SerializedCustomStatus = JsonSerializer.Serialize(status, FunctionsServices.Json),
            CreatedAt = DateTimeOffset.UnixEpoch,
            LastUpdatedAt = DateTimeOffset.UnixEpoch,
        });
    }
}
