using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RcmPitr.Host.Tests;

/// <summary>
/// The guarantees a person must be able to rely on, each reproduced through the real HTTP API on real clusters: one
/// decision per approval gate, four eyes, one run per tenant named when refused, rollback after a failed post-cutover
/// step, compensation on the real engine, flip-the-ref restored from and into what the application uses.
/// </summary>
public sealed class TrustTests(HostClusterFixture fx)
{
    [Fact]
    public async Task Decide_AfterTheFirstDecision_EveryOtherIs409NamingItAndAllAreInTheTimeline()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var id = await StartAsync(run, acme.Slug);
        await run.WaitAsync(id, HostRun.AwaitingApproval);

        using var approve = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/approve", new { comment = "counts as expected" }, TestContext.Current.CancellationToken);
        using var reject = await run.Carol.PostAsJsonAsync($"/api/restores/{id}/reject", new { comment = "wait" }, TestContext.Current.CancellationToken);
        using var again = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/approve", new { }, TestContext.Current.CancellationToken);
        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal(HttpStatusCode.Accepted, approve.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, reject.StatusCode);
        Assert.Contains("already approved by bob", await reject.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("Restored", done.GetProperty("output").GetProperty("outcome").GetString());
        var decisions = (await run.WaitAsync(id, HostRun.Terminal)).GetProperty("customStatus").GetProperty("decisions").EnumerateArray()
            .Select(d => (d.GetProperty("by").GetString(), d.GetProperty("decision").GetString(), d.GetProperty("accepted").GetBoolean())).ToList();
        Assert.Equal([("bob", "approve", true), ("carol", "reject", false), ("bob", "approve", false)], decisions);
        // The run shows the approval at the instant bob took it (as logged at the door), not when the run read it: a run that
        // reads it late must not list carol's refusal before the approval that caused it.
        var approvedAt = (await run.WaitAsync(id, HostRun.Terminal)).GetProperty("customStatus").GetProperty("decisions")[0].GetProperty("at").GetDateTimeOffset();
        Assert.Equal(await run.MasterScalarAsync<DateTime>("SELECT attempted_at FROM rcm_pitr.decision_attempts WHERE run_id = $1 AND accepted", id), approvedAt.UtcDateTime);
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_RESTORED'", acme.Id));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_REJECTED'", acme.Id));
    }

    [Fact]
    public async Task Decide_TwoApproversAtTheSameInstant_ExactlyOneDecisionReachesTheRun()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var id = await StartAsync(run, acme.Slug);
        await run.WaitAsync(id, HostRun.AwaitingApproval);

        var answers = await Task.WhenAll(
            run.Bob.PostAsJsonAsync($"/api/restores/{id}/approve", new { }, TestContext.Current.CancellationToken),
            run.Carol.PostAsJsonAsync($"/api/restores/{id}/reject", new { }, TestContext.Current.CancellationToken));
        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
        var winner = answers[0].StatusCode == HttpStatusCode.Accepted ? "Restored" : "Rejected";
        Assert.Equal(winner, done.GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM rcm_pitr.decision_attempts WHERE run_id = $1 AND accepted", id));
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task Start_WhileAnotherRunHoldsTheFrozenTenant_Is409NamingThatRun()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var first = await StartAsync(run, acme.Slug);
        await run.WaitAsync(first, HostRun.AwaitingApproval);

        using var second = await run.StartRestoreAsync(run.Bob, acme.Slug);

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        var problem = await second.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Contains(first, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_TenantWithALargeObjectUnderStreaming_Is409BeforeAnythingIsFrozen()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        await fx.ExecAsync(fx.LiveServer, acme.Database, "SELECT lo_from_bytea(0, 'scanned claim form'::bytea)");

        using var start = await run.StartRestoreAsync(run.Alice, acme.Slug);

        Assert.Equal(HttpStatusCode.Conflict, start.StatusCode);
        var problem = await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal("Preflight failed", problem.GetProperty("title").GetString());
        Assert.Contains("large objects", problem.GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
        Assert.Equal(0L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1", acme.Id));
        using var runbook = await run.StartRestoreAsync(run.Alice, acme.Slug, mode: "dry-run", transfer: "runbook");
        Assert.Equal(HttpStatusCode.Accepted, runbook.StatusCode);
    }

    [Fact]
    public async Task Rollback_RejectedOnce_CanBeRequestedAgainUnderTheNextId()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var liveBefore = await run.FingerprintAsync(onLive: true, acme.Database);
        var id = await RestoreAsync(run, acme.Slug);
        using (var first = await run.Alice.PostAsJsonAsync($"/api/restores/{id}/rollback", new { reason = "wrong point" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        await run.WaitAsync(id + "-rollback", HostRun.AwaitingApproval);
        using (var reject = await run.Bob.PostAsJsonAsync($"/api/restores/{id}-rollback/reject", new { comment = "not yet" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, reject.StatusCode);
        }

        Assert.Equal("Rejected", (await run.WaitAsync(id + "-rollback", HostRun.Terminal)).GetProperty("output").GetProperty("outcome").GetString());

        using var second = await run.Alice.PostAsJsonAsync($"/api/restores/{id}/rollback", new { reason = "now" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal($"{id}-rollback-2", (await second.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString());
        await run.WaitAsync(id + "-rollback-2", HostRun.AwaitingApproval);
        using (var approve = await run.Bob.PostAsJsonAsync($"/api/restores/{id}-rollback-2/approve", new { }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approve.StatusCode);
        }

        Assert.Equal("RolledBack", (await run.WaitAsync(id + "-rollback-2", HostRun.Terminal)).GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal(liveBefore, await run.FingerprintAsync(onLive: true, acme.Database));
        using var third = await run.Alice.PostAsJsonAsync($"/api/restores/{id}/rollback", new { }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Conflict, third.StatusCode);
        Assert.Contains("Already rolled back", await third.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithAPublicBaseUrl_LinksNeverFollowTheRequestsHostHeader()
    {
        await using var run = await HostRun.StartAsync(fx, settings: new Dictionary<string, string?> { ["RcmPitr:Links:PublicBaseUrl"] = "https://rcm-pitr.example.com/" });
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/restores")
        {
            Content = JsonContent.Create(new { tenant = acme.Slug, restoreTime = run.RestoreTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture), mode = "dry-run", reason = "links" }),
        };
        request.Headers.Host = "attacker.example";

        using var start = await run.Alice.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var links = await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var id = links.GetProperty("id").GetString()!;
        Assert.Equal($"https://rcm-pitr.example.com/api/restores/{id}", start.Headers.Location!.ToString());
        Assert.Equal($"https://rcm-pitr.example.com/api/restores/{id}/approve", links.GetProperty("approveUri").GetString());
        await run.WaitAsync(id, HostRun.Terminal);
    }

    [Fact]
    public async Task Rollback_OfARollbackRun_Is409SayingARollbackCannotBeRolledBack()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var id = await RestoreAsync(run, acme.Slug);
        using (var rollback = await run.Alice.PostAsJsonAsync($"/api/restores/{id}/rollback", new { reason = "wrong point" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, rollback.StatusCode);
        }

        using var nested = await run.Alice.PostAsJsonAsync($"/api/restores/{id}-rollback/rollback", new { }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Conflict, nested.StatusCode);
        Assert.Contains("cannot itself be rolled back", await nested.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_AfterAPostCutoverStepFailed_TakesOverTheFreezeAndPutsThePreviousDatabaseBack()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var liveBefore = await run.FingerprintAsync(onLive: true, acme.Database);
        var id = await StartAsync(run, acme.Slug);
        await run.WaitAsync(id, HostRun.AwaitingApproval);
        // The unfreeze after the swap cannot be written: the run fails after its cutover with the tenant frozen.
        await run.FailAuditRowAsync($"{id}:unfreeze");
        using (var approval = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/approve", new { }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approval.StatusCode);
        }

        var failed = await run.WaitAsync(id, HostRun.Terminal);
        Assert.Equal("Failed", failed.GetProperty("runtimeStatus").GetString());
        Assert.Contains($"rcm-pitr rollback {id}", failed.GetProperty("customStatus").GetProperty("operatorAction").GetString(), StringComparison.Ordinal);
        Assert.Equal("read_only", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));

        using (var rollback = await run.Alice.PostAsJsonAsync($"/api/restores/{id}/rollback", new { reason = "post-cutover failure" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, rollback.StatusCode);
        }

        await run.WaitAsync(id + "-rollback", HostRun.AwaitingApproval);
        using (var selfApproval = await run.Alice.PostAsJsonAsync($"/api/restores/{id}-rollback/approve", new { }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, selfApproval.StatusCode);
        }

        using (var approval = await run.Bob.PostAsJsonAsync($"/api/restores/{id}-rollback/approve", new { }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approval.StatusCode);
        }

        var rolledBack = await run.WaitAsync(id + "-rollback", HostRun.Terminal);
        Assert.Equal("RolledBack", rolledBack.GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal(liveBefore, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
        Assert.Contains(run.Derived(acme.Database, "rollback", id), await run.DatabasesLikeAsync(acme.Database));
        Assert.Equal("bob", await run.MasterScalarAsync<string>("SELECT details->>'approvedBy' FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_ROLLED_BACK'", acme.Id));
    }

    [Fact]
    public async Task Restore_ParityFailsOnTheRealEngine_CompensatesEverythingAndAuditsTheFailure()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 2000, membersAtT: 0);
        var liveBefore = await run.FingerprintAsync(onLive: true, acme.Database);
        var id = await StartAsync(run, acme.Slug);

        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal("Failed", done.GetProperty("runtimeStatus").GetString());
        var steps = done.GetProperty("customStatus").GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("outcome").GetString());
        Assert.Equal("failed", steps["parity probe"]);
        Assert.Equal("compensated", steps["undo: drop the restored copy"]);
        Assert.Equal("compensated", steps["undo: unfreeze tenant"]);
        Assert.Equal(liveBefore, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal([acme.Database], await run.DatabasesLikeAsync(acme.Database));
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
        Assert.Equal(1L, await run.MasterScalarAsync<long>("SELECT count(*) FROM identity.tenant_audit WHERE tenant_id = $1 AND event = 'TENANT_PITR_FAILED'", acme.Id));
    }

    [Fact]
    public async Task Restore_AnUndoFails_TheRunSaysWhatIsLeftToFinishByHand()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var id = await StartAsync(run, acme.Slug);
        await run.WaitAsync(id, HostRun.AwaitingApproval);
        await run.FailAuditRowAsync($"{id}:unfreeze");
        using (var reject = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/reject", new { comment = "no" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, reject.StatusCode);
        }

        var done = await run.WaitAsync(id, HostRun.Terminal);

        Assert.Equal("Failed", done.GetProperty("runtimeStatus").GetString());
        var status = done.GetProperty("customStatus");
        Assert.Contains("unfreeze tenant", status.GetProperty("operatorAction").GetString(), StringComparison.Ordinal);
        var undo = status.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "undo: unfreeze tenant");
        Assert.Equal("failed", undo.GetProperty("outcome").GetString());
        Assert.True(undo.GetProperty("attempts").GetArrayLength() >= 1);
        Assert.Equal([acme.Database], await run.DatabasesLikeAsync(acme.Database));
        Assert.Equal("read_only", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
    }

    [Fact]
    public async Task List_RowsShowTenantKindRestoreTimeAndOutcome_RetentionTimersApart()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var id = await RestoreAsync(run, acme.Slug);

        var rows = await run.Alice.GetFromJsonAsync<JsonElement>("/api/restores", TestContext.Current.CancellationToken);
        // The retention timer starts as Pending and runs once the engine picks it up.
        var retention = await ListUntilAsync(run, "/api/restores?kind=retention", list => list.EnumerateArray().Any(r => r.GetProperty("runtimeStatus").GetString() == "Running"));

        var row = rows.EnumerateArray().Single();
        Assert.Equal((id, acme.Slug, "restore", "Restored"), (row.GetProperty("instanceId").GetString(), row.GetProperty("tenant").GetString(), row.GetProperty("kind").GetString(), row.GetProperty("outcome").GetString()));
        Assert.Equal(run.RestoreTime.ToUnixTimeSeconds(), row.GetProperty("restoreTime").GetDateTimeOffset().ToUnixTimeSeconds());
        var timer = retention.EnumerateArray().Single();
        Assert.Equal(($"{id}-drop-kept", "retention", "Running"), (timer.GetProperty("instanceId").GetString(), timer.GetProperty("kind").GetString(), timer.GetProperty("runtimeStatus").GetString()));
    }

    [Fact]
    public async Task FlipTheRef_ThenASwapRestore_RestoresIntoTheDatabaseTheApplicationUses()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var atT = await run.FingerprintAsync(onLive: false, acme.Database);
        var flip = await RestoreAsync(run, acme.Slug, strategy: "flip-the-ref");
        var flipped = run.Derived(acme.Database, "restore", flip);
        Assert.Equal(atT, await run.FingerprintAsync(onLive: true, flipped));
        var reference = await run.MasterScalarAsync<string>("SELECT db_config_ref FROM identity.tenant WHERE id = $1", acme.Id);
        // The application writes to the database its reference points at.
        await fx.ExecAsync(fx.LiveServer, flipped, "INSERT INTO members.member (organization_id, member_number, full_name, date_of_birth, plan) SELECT organization_id, member_number || '-after-flip', full_name, date_of_birth, plan FROM members.member LIMIT 2");
        var afterFlip = await run.FingerprintAsync(onLive: true, flipped);

        var swap = await RestoreAsync(run, acme.Slug);

        Assert.Equal(reference, await run.MasterScalarAsync<string>("SELECT db_config_ref FROM identity.tenant WHERE id = $1", acme.Id));
        Assert.Equal(atT, await run.FingerprintAsync(onLive: true, flipped));
        Assert.Equal(afterFlip, await run.FingerprintAsync(onLive: true, run.Derived(acme.Database, "pre_pitr", swap)));
        var resolve = (await run.StatusAsync(swap)).GetProperty("customStatus").GetProperty("steps").EnumerateArray().First().GetProperty("detail").GetString();
        Assert.Contains(flipped, resolve, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlipTheRef_RolledBack_PointsTheReferenceBackAtThePreviousDatabase()
    {
        await using var run = await HostRun.StartAsync(fx);
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 7);
        var liveBefore = await run.FingerprintAsync(onLive: true, acme.Database);
        var original = await run.MasterScalarAsync<string>("SELECT db_config_ref FROM identity.tenant WHERE id = $1", acme.Id);
        var flip = await RestoreAsync(run, acme.Slug, strategy: "flip-the-ref");
        Assert.NotEqual(original, await run.MasterScalarAsync<string>("SELECT db_config_ref FROM identity.tenant WHERE id = $1", acme.Id));

        using (var rollback = await run.Alice.PostAsJsonAsync($"/api/restores/{flip}/rollback", new { reason = "wrong point" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, rollback.StatusCode);
        }

        await run.WaitAsync(flip + "-rollback", HostRun.AwaitingApproval);
        using (var approval = await run.Bob.PostAsJsonAsync($"/api/restores/{flip}-rollback/approve", new { }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approval.StatusCode);
        }

        var done = await run.WaitAsync(flip + "-rollback", HostRun.Terminal);
        Assert.Equal("RolledBack", done.GetProperty("output").GetProperty("outcome").GetString());
        Assert.Equal(original, await run.MasterScalarAsync<string>("SELECT db_config_ref FROM identity.tenant WHERE id = $1", acme.Id));
        Assert.Equal(liveBefore, await run.FingerprintAsync(onLive: true, acme.Database));
        Assert.Equal("active", await run.MasterScalarAsync<string>("SELECT status FROM identity.tenant WHERE id = $1", acme.Id));
    }

    private static async Task<JsonElement> ListUntilAsync(HostRun run, string query, Func<JsonElement, bool> until)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var list = await run.Alice.GetFromJsonAsync<JsonElement>(query, timeout.Token);
            if (until(list))
            {
                return list;
            }

            await Task.Delay(150, timeout.Token);
        }
    }

    private static async Task<string> StartAsync(HostRun run, string tenant, string? strategy = null)
    {
        using var response = await run.StartRestoreAsync(run.Alice, tenant, strategy: strategy);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>A restore approved by bob, run to its end.</summary>
    private static async Task<string> RestoreAsync(HostRun run, string tenant, string? strategy = null)
    {
        var id = await StartAsync(run, tenant, strategy);
        await run.WaitAsync(id, HostRun.AwaitingApproval);
        using (var approval = await run.Bob.PostAsJsonAsync($"/api/restores/{id}/approve", new { }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Accepted, approval.StatusCode);
        }

        var done = await run.WaitAsync(id, HostRun.Terminal);
        Assert.Equal("Restored", done.GetProperty("output").GetProperty("outcome").GetString());
        return id;
    }
}
