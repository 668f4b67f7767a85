using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RcmPitr.Workflow.Batches;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Workflow.Tests.Batches;

public sealed class BatchStatusBudgetTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() }, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    [Fact]
    public void Fit_FiftyMembersWithLongDetails_StaysWithinTheBudgetAndKeepsEveryMemberStillGoing()
    {
        // Fifty members at the longest the batch writes: 300-character details, long slugs and run ids, both timestamps.
        var members = Enumerable.Range(0, RestoreBatchRequest.MaxMembers).Select(i => new BatchMemberStatus(
            $"tenant-with-a-rather-long-slug-{i:00}", $"restore-tenant-with-a-rather-long-slug-{i:00}--20260422143015-0123abcd", "pg-us-east-1",
            i % 5 == 0 ? BatchMemberStates.Running : i % 2 == 0 ? BatchMemberStates.Succeeded : BatchMemberStates.Failed,
            RestoreSteps.Transfer, "Warn", i % 5 == 0 ? null : "Failed", new string('x', 300), DateTime.UnixEpoch, DateTime.UnixEpoch)).ToList();
        var status = new RestoreBatchStatus("running", "Restore", "20260422143015", "tenants", 2,
            [new BatchServerStatus("pg-us-east-1", "pg-us-east-1-pitr-20260422143015", "held", "created for this batch")],
            members, new BatchCounts(50, 0, 10, 0, 20, 20, 0, 0), new string('e', 300), new string('o', 300));
        Assert.True(Size(status) > RestoreStatusBudget.DefaultMaxBytes);

        var fitted = BatchStatusBudget.Fit(status);

        Assert.True(Size(fitted) <= RestoreStatusBudget.DefaultMaxBytes, $"{Size(fitted)} bytes");
        Assert.Equal(members.Where(m => !m.Final).Select(m => m.RunId), fitted.Members.Where(m => !m.Final).Select(m => m.RunId));
        Assert.Equal(status.Counts, fitted.Counts);
        Assert.Equal(members.Count - fitted.Members.Count, fitted.MembersOmitted ?? 0);
    }

    [Fact]
    public void Fit_SmallBatch_IsPublishedAsItIs()
    {
        var status = new RestoreBatchStatus("running", "DryRun", "20260422143015", "tenants", 2, [],
            [new BatchMemberStatus("acme", "restore-acme--20260422143015-1", "pg", BatchMemberStates.Running, RestoreSteps.Transfer, null, null, "moving", null, null)],
            new BatchCounts(1, 0, 1, 0, 0, 0, 0, 0), null, null);

        Assert.Same(status, BatchStatusBudget.Fit(status));
    }

    private static int Size(RestoreBatchStatus status) => Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(status, Json));
}
