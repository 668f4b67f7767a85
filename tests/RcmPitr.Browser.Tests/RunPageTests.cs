using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenQA.Selenium;
using RcmPitr.Api;
using RcmPitr.Host.Tests;

namespace RcmPitr.Browser.Tests;

/// <summary>
/// The web page in headless Chromium against a real embedded host (Kestrel on loopback, the engine and real clusters):
/// the requester sees her run await approval with its change report and cannot approve it, a principal without the
/// approver role cannot either, and a second person approves it from the page, which then shows it Restored.
/// </summary>
public sealed class RunPageTests(HostClusterFixture fx)
{
    private const string DaveKey = "key-dave-requester-only-0123456789abcdef";

    /// <summary>Set to 1 to write the screenshot of the run page awaiting approval to docs/images/run-page.png.</summary>
    private const string UpdateScreenshotVariable = "RCMPITR_UPDATE_SCREENSHOTS";

    [Fact]
    public async Task RunPage_RequesterCannotApprove_SecondPersonApprovesFromThePage_RunIsRestored()
    {
        var clock = Stopwatch.StartNew();
        using var browser = Chromium.Start();
        await using var run = await HostRun.StartAsync(fx, kestrel: true, settings: new Dictionary<string, string?>
        {
            // A requester who is not an approver.
            ["RcmPitr:Principals:dave:KeySha256"] = ApiKeyPrincipals.HashHex(DaveKey),
            ["RcmPitr:Principals:dave:Roles:0"] = "requester",
        });
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 10);

        // alice requests the restore through the API, as the CLI does.
        using var start = await run.StartRestoreAsync(run.Alice, acme.Slug);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
        var address = run.Address!;

        // The list, signed in with alice's key through the page's form; the run's link opens its page.
        browser.Open(new Uri(address, "/"));
        browser.WaitUntil("the sign-in form", () => browser.ById("signin").Displayed);
        Assert.Empty(browser.AccessibilityViolations());
        SignIn(browser, HostRun.AliceKey, "alice");
        browser.WaitUntil($"the runs list to link run {id}", () => browser.Driver.FindElements(By.LinkText(id)).Count == 1);
        var listed = browser.ById("runs-body").Text;
        Assert.Contains(acme.Slug, listed, StringComparison.Ordinal);
        Assert.Contains("restore", listed, StringComparison.Ordinal);
        Assert.Empty(browser.AccessibilityViolations());
        browser.Click(By.LinkText(id), $"the link to run {id}");
        browser.WaitUntil("the run page", () => browser.Driver.Url.EndsWith($"/runs/{id}", StringComparison.Ordinal));

        // The page follows the run by itself until it waits for a decision.
        browser.WaitForText("run-state", "Awaiting approval", TimeSpan.FromSeconds(180));
        browser.WaitUntil("the decision section", () => browser.ById("decide").Displayed);
        Assert.False(browser.ById("approve").Enabled);
        Assert.False(browser.ById("reject").Enabled);
        Assert.Equal("You requested this run; a second person must decide.", browser.ById("decide-reason").Text);
        var summary = browser.ById("summary").Text;
        Assert.Contains(acme.Slug, summary, StringComparison.Ordinal);
        Assert.Contains("bad migration deleted members", summary, StringComparison.Ordinal);
        Assert.Contains(run.RestoreTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), summary, StringComparison.Ordinal);
        // The run takes decisions (and shows "Awaiting approval") from before it notifies the approvers; its gate follows.
        browser.WaitUntil("the approval step in the timeline", () => browser.ById("timeline-body").Text.Contains("await approval", StringComparison.Ordinal));
        Assert.Contains("Verdict: Warn", browser.ById("parity-verdict").Text, StringComparison.Ordinal);
        browser.WaitForText("transfer-text", "done");
        await AssertChangeReportAsync(run, browser, id);
        Assert.Empty(browser.AccessibilityViolations());
        SaveScreenshot(browser);

        // Signing out forgets the key.
        browser.ById("sign-out").Click();
        browser.WaitUntil("the sign-in form", () => browser.ById("signin").Displayed && !browser.ById("run").Displayed);
        Assert.Equal("api-key", browser.Driver.SwitchTo().ActiveElement().GetAttribute("id"));
        Assert.Null(browser.Driver.ExecuteScript("return sessionStorage.getItem('rcm-pitr.api-key');"));

        // A requester without the approver role is told why the buttons are off.
        SignIn(browser, DaveKey, "dave");
        browser.WaitForText("decide-reason", "approver role");
        Assert.False(browser.ById("approve").Enabled);
        browser.ById("sign-out").Click();
        browser.WaitUntil("the sign-in form", () => browser.ById("signin").Displayed);

        // bob approves with a comment, from the keyboard.
        SignIn(browser, HostRun.BobKey, "bob");
        browser.WaitUntil("an enabled approve button", () => browser.ById("decide").Displayed && browser.ById("approve").Enabled);
        Assert.Equal(string.Empty, browser.ById("decide-reason").Text);
        browser.ById("decide-comment").SendKeys("counts as expected");
        browser.ById("approve").SendKeys(Keys.Enter);
        browser.WaitForText("decide-result", "Approved");
        browser.WaitForText("run-state", "Restored", TimeSpan.FromSeconds(180));
        Assert.False(browser.ById("decide").Displayed);
        var decisions = browser.ById("decisions-body").Text;
        Assert.Contains("bob approve accepted counts as expected", decisions, StringComparison.Ordinal);
        Assert.Contains("Restored", browser.ById("summary").Text, StringComparison.Ordinal);
        Assert.Empty(browser.AccessibilityViolations());

        // What the API says agrees, and no key ever reached the page.
        var final = await run.StatusAsync(id);
        Assert.Equal("Restored", final.GetProperty("output").GetProperty("outcome").GetString());
        var source = browser.Driver.PageSource;
        Assert.DoesNotContain(HostRun.AliceKey, source, StringComparison.Ordinal);
        Assert.DoesNotContain(HostRun.BobKey, source, StringComparison.Ordinal);
        Assert.DoesNotContain(DaveKey, source, StringComparison.Ordinal);
        TestContext.Current.SendDiagnosticMessage($"browser scenario took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    internal static void SignIn(Chromium browser, string key, string name)
    {
        browser.WaitUntil("the sign-in form", () => browser.ById("signin").Displayed && browser.ById("api-key").Enabled);
        var input = browser.ById("api-key");
        input.Clear();
        input.SendKeys(key);
        input.SendKeys(Keys.Enter);
        browser.WaitForText("who-name", name);
        Assert.Equal(string.Empty, browser.ById("api-key").GetAttribute("value"));
    }

    /// <summary>
    /// The change report section shows the run's report (<c>GET /api/restores/{id}/changes</c>): its totals, the members
    /// table with the 6 rows deleted after T that come back, and the CSV of sampled keys, fetched with the key.
    /// </summary>
    private static async Task AssertChangeReportAsync(HostRun run, Chromium browser, string id)
    {
        using var changes = await run.Alice.GetAsync($"/api/restores/{id}/changes", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, changes.StatusCode);
        browser.WaitForText("changes-body", "Only in the copy — deleted after T, come back\n6");
        Assert.Contains("members.member primary key 0 6 ", browser.ById("changes-body").Text, StringComparison.Ordinal);
        Assert.Contains("Owners and privileges: the same as live's", browser.ById("changes-body").Text, StringComparison.Ordinal);
        browser.Click(By.Id("changes-csv"), "the change report CSV link");
        browser.WaitForText("live", "Change report CSV downloaded.");
        Assert.Equal(string.Empty, browser.ById("run-error").Text);
    }

    /// <summary>Saves the page as <paramref name="name"/> (attached to the test; copied to docs/images when asked to).</summary>
    internal static void SaveScreenshot(Chromium browser, string name = "run-page.png")
    {
        var path = Path.Combine(AppContext.BaseDirectory, "screenshots", name);
        browser.SaveFullPageScreenshot(path);
        TestContext.Current.AddAttachment(name, File.ReadAllBytes(path), "image/png");
        if (Environment.GetEnvironmentVariable(UpdateScreenshotVariable) == "1")
        {
            File.Copy(path, Path.Combine(Checkout(), "docs", "images", name), overwrite: true);
        }
    }

    private static string Checkout()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "RcmPitr.Functions.sln")))
            {
                Directory.CreateDirectory(Path.Combine(folder.FullName, "docs", "images"));
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No checkout (RcmPitr.Functions.sln) above {AppContext.BaseDirectory}.");
    }
}
