using OpenQA.Selenium;
using RcmPitr.Workflow.Contracts;
using RcmPitr.Workflow.Parity;
using RcmPitr.Workflow.Restores;

namespace RcmPitr.Browser.Tests;

/// <summary>
/// What the run page makes of a status a real run does not produce on demand, served by <see cref="StubApi"/> with the
/// page's real files: the change report with its counts, partial flag, sampled keys and CSV, text from the API that looks
/// like HTML (shown as text, never run), a retried step, live transfer progress, an API refusal of a decision, and an
/// answer held back until a newer one was shown (it must not draw over it).
/// </summary>
public sealed class RunPageRenderingTests
{
    private const string RunId = "restore-acme--20260422143000-0123abcd";
    private const string Hostile = "<img src=x onerror=\"window.pwned=1\">";

    [Fact]
    public async Task RunPage_RunWithoutAChangeReport_SaysNoneYetAndOffersNoDecision()
    {
        using var browser = Chromium.Start();
        var at = new DateTime(2026, 4, 22, 14, 35, 0, DateTimeKind.Utc);
        var status = new
        {
            instanceId = RunId,
            name = RestoreTenantOrchestrator.Name,
            runtimeStatus = "Running",
            createdTime = at,
            lastUpdatedTime = at,
            input = new { tenant = "acme", restoreTime = "2026-04-22T14:30:00+00:00", mode = "Restore", reason = "bad migration", requestedBy = "alice" },
            customStatus = new
            {
                tenant = "acme",
                mode = "Restore",
                phase = "running",
                awaitingApproval = false,
                steps = new[] { new TimelineStep(RestoreSteps.Resolve, at, null, "running", null) },
            },
        };
        await using var stub = await StubApi.StartAsync(
            me: new { id = "bob", name = "bob", roles = new[] { "approver", "requester" } }, status, changes: null, csv: string.Empty, decisionProblem: (409, "Not awaiting approval", "no"));

        browser.Open(new Uri(stub.Address, $"/runs/{RunId}"));
        browser.WaitUntil("the sign-in form", () => browser.ById("signin").Displayed);
        browser.ById("api-key").SendKeys(StubApi.Key + Keys.Enter);

        browser.WaitForText("run-state", "Running: running");
        browser.WaitForText("changes-body", "No change report yet.");
        Assert.False(browser.ById("decide").Displayed);
        Assert.Empty(browser.Driver.FindElements(By.Id("changes-csv")));
        Assert.Contains($"GET /api/restores/{RunId}/changes", stub.Requests);
    }

    [Fact]
    public async Task RunPage_ChangeReportHostileTextAndARefusedDecision_AreShownAsText()
    {
        using var browser = Chromium.Start();
        var at = new DateTime(2026, 4, 22, 14, 35, 0, DateTimeKind.Utc);
        var report = new ChangeReport(RunId, "tenant_acme", "tenant_acme_restore_20260422143000_0123ab", at, 2.5, Partial: true,
        [
            new TableChanges("members.member", TableMatch.PrimaryKey, ["id"], LiveRows: 4, CopyRows: 10, OnlyInLive: 1, OnlyInCopy: 7, Different: 2, Partial: false,
                new ChangeSamples([["11"]], [["3"], ["4"]], [["1"]]), SamplesTruncated: true),
            new TableChanges($"public.\"{Hostile}\"", TableMatch.RowHash, [], 1, 1, 0, 0, 1, Partial: true, ChangeSamples.None, false),
            new TableChanges("security.app_user", TableMatch.PrimaryKey, ["id"], 3, 3, 0, 0, 0, false, ChangeSamples.None, false),
        ])
        {
            Privileges = new PrivilegeComparison(12, 0, 0, [new PrivilegeDifference("table", "members.member", "app", "postgres", null, null)]),
        };
        var custom = new
        {
            tenant = "acme",
            mode = "Restore",
            stamp = "20260422143000",
            phase = "running",
            awaitingApproval = true,
            steps = new object[]
            {
                new TimelineStep(RestoreSteps.Resolve, at, at.AddSeconds(1), "succeeded", "tenant_acme on pg-live"),
                new TimelineStep(RestoreSteps.Transfer, at.AddSeconds(1), at.AddSeconds(9), "succeeded", Hostile,
                    [new StepAttempt(1, "MoveTenant", at.AddSeconds(2), "connection reset", at.AddSeconds(3))]),
                new TimelineStep(RestoreSteps.Approval, at.AddSeconds(10), null, "running", null),
            },
            parity = new ParityReport("tenant_acme", "tenant_acme_restore_20260422143000_0123ab", [new ParityRow("members.member", 4, 10, ParityVerdict.Warn, "restored has 6 more rows")], ParityVerdict.Warn),
            transfer = new
            {
                mode = "streaming", phase = "data", tablesDone = 2, tablesTotal = 5, bytesMoved = 3L * 1048576, startedAt = at, updatedAt = at, progressedAt = at, error = (string?)null,
                bytesTotal = 12L * 1048576, bytesPerSecond = 1572864L, mbPerSecond = 1.5, estimatedFinishAt = at.AddSeconds(6), secondsRemaining = 6L,
            },
            decisions = new[] { new DecisionRecord(at.AddSeconds(11), "alice", "approve", Accepted: false, "refused: four eyes — the requester cannot decide their own run") },
            changes = report.Summarize(),
            operatorAction = Hostile,
        };
        var status = new
        {
            instanceId = RunId,
            name = RestoreTenantOrchestrator.Name,
            runtimeStatus = "Running",
            createdTime = at,
            lastUpdatedTime = at.AddSeconds(11),
            input = new { tenant = "acme", restoreTime = "2026-04-22T14:30:00+00:00", mode = "Restore", strategy = "SwapAndKeep", reason = Hostile, requestedBy = "alice", requestedById = "alice", transfer = "Streaming" },
            customStatus = custom,
        };
        await using var stub = await StubApi.StartAsync(
            me: new { id = "carol", name = "carol", roles = new[] { "approver", "operator" } },
            status,
            report,
            csv: "table,category,key\nmembers.member,only in copy,3\n",
            decisionProblem: (409, "Already decided", "Run was already approved by bob at 2026-04-22T14:36:00Z; later decisions are refused."));

        browser.Open(new Uri(stub.Address, $"/runs/{RunId}"));
        browser.WaitUntil("the sign-in form", () => browser.ById("signin").Displayed);
        browser.ById("api-key").SendKeys(StubApi.Key + Keys.Enter);
        browser.WaitForText("run-state", "Awaiting approval");

        // The change report from GET /changes: totals, partial, per-table counts and sampled keys, unchanged tables left out.
        browser.WaitForText("changes-body", "Only in live — written after T, leave with the cutover");
        var changes = browser.ById("changes-body").Text;
        Assert.Contains("Only in the copy — deleted after T, come back\n7", changes, StringComparison.Ordinal);
        Assert.Contains("Partial:", changes, StringComparison.Ordinal);
        Assert.Contains("members.member primary key 1 7 2 key (id) — only in live: (11); only in copy: (3) (4); different: (1) …", changes, StringComparison.Ordinal);
        Assert.Contains(Hostile, changes, StringComparison.Ordinal);
        Assert.DoesNotContain("security.app_user", changes, StringComparison.Ordinal);
        Assert.Contains("Owners and privileges: 1 object differs from live's (of 12 compared).", changes, StringComparison.Ordinal);
        Assert.Contains("table members.member app postgres", browser.ById("privileges-table").Text, StringComparison.Ordinal);

        // The CSV goes through the API with the key.
        browser.Click(By.Id("changes-csv"), "the change report CSV link");
        browser.WaitUntil("the CSV request", () => stub.Requests.Contains($"GET /api/restores/{RunId}/changes.csv"));

        // Text that looks like HTML stays text, wherever it comes from.
        Assert.Contains(Hostile, browser.ById("timeline-body").Text, StringComparison.Ordinal);
        Assert.Contains(Hostile, browser.ById("operator-action").Text, StringComparison.Ordinal);
        Assert.Contains(Hostile, browser.ById("summary").Text, StringComparison.Ordinal);
        Assert.Empty(browser.Driver.FindElements(By.CssSelector("main img")));
        Assert.Null(browser.Driver.ExecuteScript("return window.pwned === undefined ? null : window.pwned;"));

        // A retried step, live progress, a refused decision.
        Assert.Contains("2 (1 failed)", browser.ById("timeline-body").Text, StringComparison.Ordinal);
        Assert.Contains("streaming: data — 2 of 5 tables, 3.0 MB of 12.0 MB (25 %), 1.5 MB/s, about 6 s left (ETA 2026-04-22 14:35:06Z), updated ", browser.ById("transfer-text").Text, StringComparison.Ordinal);
        Assert.Equal("2", browser.ById("transfer-progress").GetAttribute("value"));
        Assert.Contains("alice approve refused", browser.ById("decisions-body").Text, StringComparison.Ordinal);
        Assert.Empty(browser.AccessibilityViolations());
        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "run-page-scripted.png");
        browser.SaveFullPageScreenshot(screenshot);
        TestContext.Current.AddAttachment("run-page-scripted.png", File.ReadAllBytes(screenshot), "image/png");

        // carol may decide; the keyboard reaches the buttons with a visible focus; the API's 409 is shown.
        browser.WaitUntil("an enabled approve button", () => browser.ById("approve").Enabled);
        browser.ById("decide-comment").SendKeys("looks right" + Keys.Tab);
        Assert.Equal("approve", browser.Driver.SwitchTo().ActiveElement().GetAttribute("id"));
        Assert.NotEqual("none", browser.Driver.ExecuteScript("return getComputedStyle(document.activeElement).outlineStyle;"));
        browser.Driver.SwitchTo().ActiveElement().SendKeys(Keys.Enter);
        browser.WaitForText("decide-result", "Not approved: Already decided — Run was already approved by bob");
        Assert.Contains($"POST /api/restores/{RunId}/approve", stub.Requests);

        // The accessibility check is live: without its label the comment box is a violation.
        browser.Driver.ExecuteScript("document.querySelector('label[for=decide-comment]').remove();");
        Assert.Contains(browser.AccessibilityViolations(), v => v.StartsWith("label ", StringComparison.Ordinal) && v.Contains("#decide-comment", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunPage_AnswerReadBeforeANewerOne_NeverDrawsOverIt()
    {
        using var browser = Chromium.Start();
        var at = new DateTime(2026, 4, 22, 14, 35, 0, DateTimeKind.Utc);
        object Status(string runtimeStatus, string phase, string? outcome) => new
        {
            instanceId = RunId,
            name = RestoreTenantOrchestrator.Name,
            runtimeStatus,
            createdTime = at,
            lastUpdatedTime = at,
            input = new { tenant = "acme", restoreTime = "2026-04-22T14:30:00+00:00", mode = "Restore", reason = "bad migration", requestedBy = "alice" },
            customStatus = new { tenant = "acme", mode = "Restore", phase, awaitingApproval = false },
            output = outcome is null ? null : new { outcome },
        };

        // The first answer says the run cuts over; the timer's refresh (the second request) is held back and will say so
        // too; every later request (the button's) says it is Restored.
        var timersRequest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cutover = Status("Running", "cutover", outcome: null);
        var restored = Status("Completed", "done", outcome: "Restored");
        await using var stub = await StubApi.StartAsync(
            me: new { id = "bob", name = "bob", roles = new[] { "approver" } },
            async (before, ct) =>
            {
                if (before == 1)
                {
                    timersRequest.SetResult();
                    await release.Task.WaitAsync(ct);
                }

                return before <= 1 ? (cutover, 202) : (restored, 200);
            },
            changes: null, csv: string.Empty, decisionProblem: (409, "Not awaiting approval", "no"));
        try
        {
            browser.Open(new Uri(stub.Address, $"/runs/{RunId}"));
            browser.WaitUntil("the sign-in form", () => browser.ById("signin").Displayed);
            browser.ById("api-key").SendKeys(StubApi.Key + Keys.Enter);
            browser.WaitForText("run-state", "Running: cutover");
            await timersRequest.Task.WaitAsync(Chromium.DefaultTimeout, TestContext.Current.CancellationToken);

            // The button's refresh overtakes the timer's: the page shows the run Restored.
            browser.ById("run-refresh").Click();
            browser.WaitForText("run-state", "Restored (Completed)");

            // The timer's answer, read before, arrives now: the page stays Restored and asks for nothing more.
            release.SetResult();
            browser.WaitUntil("the held answer's change report request", () => stub.Requests.Count(r => r.EndsWith("/changes", StringComparison.Ordinal)) == 3);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(5))
            {
                Assert.Equal("Restored (Completed)", browser.ById("run-state").Text);
                Assert.Contains("Restored", browser.ById("summary").Text, StringComparison.Ordinal);
                await Task.Delay(200, TestContext.Current.CancellationToken);
            }

            Assert.Equal(3, stub.Requests.Count(r => r == $"GET /api/restores/{RunId}"));
        }
        finally
        {
            release.TrySetResult();
        }
    }
}
