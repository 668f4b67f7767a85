using System.Text.Json;
using System.Text.Json.Serialization;
using RcmPitr.Workflow.Recoveries;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Tests.Recoveries;

public sealed class RecoveryStatusBudgetTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    [Fact]
    public void Fit_TwoTenants_IsUnchanged()
    {
        var status = Status(2);

        Assert.Same(status, RecoveryStatusBudget.Fit(status));
    }

    [Fact]
    public void Fit_SixtyTenants_CountsTheRecoveredAndListsTheOthers()
    {
        var status = Status(60);

        var fitted = RecoveryStatusBudget.Fit(status);

        Assert.True(JsonSerializer.SerializeToUtf8Bytes(fitted, Json).Length <= RestoreStatusBudget.DefaultMaxBytes);
        Assert.Equal(
            status.Tenants.Where(t => t.State != RecoveryTenantStates.Recovered).Select(t => t.Tenant),
            fitted.Tenants.Select(t => t.Tenant));
        Assert.Equal(status.Tenants.Count(t => t.State == RecoveryTenantStates.Recovered), fitted.TenantsOmitted);
    }

    [Fact]
    public void Fit_FourHundredTenants_FitsWithEveryFailedLineAndCountsTheRest()
    {
        var status = Status(400);

        var fitted = RecoveryStatusBudget.Fit(status);

        Assert.True(JsonSerializer.SerializeToUtf8Bytes(fitted, Json).Length <= RestoreStatusBudget.DefaultMaxBytes);
        Assert.Subset(fitted.Tenants.Select(t => t.Tenant).ToHashSet(), status.Tenants.Where(t => t.State == RecoveryTenantStates.Failed).Select(t => t.Tenant).ToHashSet());
        Assert.Equal(400, fitted.Tenants.Count + fitted.TenantsOmitted);
        Assert.Equal(status.RestorePoint, fitted.RestorePoint);
        Assert.Contains(fitted.Decisions, d => d.Accepted);
    }

    private static RecoverServerStatus Status(int tenants) => new(
        "re-pointing",
        "pg-us-east-1",
        "pg-us-east-1-geo-20261202080000",
        "Ready",
        "the latest geo-backup available in westus2 (Azure reports no exact time)",
        false,
        [.. Enumerable.Range(0, tenants).Select(i => new RecoveryTenantLine(
            $"tenant-{i:D4}", $"recovery-x.tenant-{i:D4}", i % 10 == 0 ? RecoveryTenantStates.Failed : i % 3 == 0 ? RecoveryTenantStates.Checked : RecoveryTenantStates.Recovered,
            "done", new string('d', 200), false, new Dictionary<string, long> { ["members.member"] = i, ["identity.organization"] = 1, ["security.app_user"] = 2 }))],
        [.. Enumerable.Range(0, 30).Select(i => new DecisionRecord(DateTime.UnixEpoch, "alice", "approve", false, "refused")), new DecisionRecord(DateTime.UnixEpoch, "bob", "approve", true, "ok")],
        null,
        null);
}
