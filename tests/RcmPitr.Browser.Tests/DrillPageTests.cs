using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenQA.Selenium;
using RcmPitr.Host.Tests;

namespace RcmPitr.Browser.Tests;

/// <summary>
/// The drill pages in headless Chromium against a real embedded host and real clusters: two drills of two tenants, the list
/// links both, and the report of the second shows every tenant's verdict and reason, a chart of each tenant's restore duration
/// over both drills (one point per tenant and drill, a line per tenant), the same values as a table, and every phase.
/// </summary>
public sealed class DrillPageTests(HostClusterFixture fx)
{
    [Fact]
    public async Task DrillPage_TwoDrills_ShowsTheReportAndChartsEachTenantsDurations()
    {
        using var browser = Chromium.Start();
        await using var run = await HostRun.StartAsync(fx, kestrel: true, settings: new Dictionary<string, string?>
        {
            ["RcmPitr:DryRunSchedule"] = string.Empty,
            ["RcmPitr:DryRun:RestorePointAge"] = "00:00:30",
            ["RcmPitr:Batch:PollInterval"] = "00:00:00.300",
        });
        var acme = await run.AddTenantAsync("acme", liveMembers: 4, membersAtT: 10);
        var globex = await run.AddTenantAsync("globex-health", liveMembers: 7, membersAtT: 3);
        var drills = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var started = await run.Bob.PostAsJsonAsync("/api/drills", new { }, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            var id = (await started.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
            var report = await run.WaitForDrillReportAsync(id);
            Assert.Equal(2, report.GetProperty("passed").GetInt32());
            drills.Add(id);
        }

        browser.Open(new Uri(run.Address!, "/drills"));
        RunPageTests.SignIn(browser, HostRun.AliceKey, "alice");
        browser.WaitUntil("the drills list to link both drills", () => drills.All(d => browser.Driver.FindElements(By.LinkText(d)).Count == 1));
        Assert.Empty(browser.AccessibilityViolations());
        browser.Click(By.LinkText(drills[1]), $"the link to drill {drills[1]}");
        browser.WaitUntil("the drill page", () => browser.Driver.Url.EndsWith($"/drills/{drills[1]}", StringComparison.Ordinal));
        browser.WaitForText("drill-summary", "2 passed, 0 failed");

        var results = browser.ById("drill-results").Text;
        Assert.Contains($"{acme.Slug} Passed", results, StringComparison.Ordinal);
        Assert.Contains($"{globex.Slug} Passed", results, StringComparison.Ordinal);
        Assert.Contains($"previous ({drills[0]})", results, StringComparison.Ordinal);
        Assert.Contains("counts consistent with drill", results, StringComparison.Ordinal);
        // The chart: a point per tenant and drill, a line per tenant, a legend naming both; the table has the same values.
        var chart = browser.ById("drill-chart");
        Assert.Equal(4, chart.FindElements(By.CssSelector("svg circle.point")).Count);
        Assert.Equal(2, chart.FindElements(By.CssSelector("svg polyline")).Count);
        Assert.Contains(acme.Slug, chart.FindElement(By.CssSelector(".legend")).Text, StringComparison.Ordinal);
        Assert.Contains(globex.Slug, chart.FindElement(By.CssSelector(".legend")).Text, StringComparison.Ordinal);
        Assert.Equal(4, browser.ById("drill-history").FindElements(By.TagName("tr")).Count);
        Assert.Contains("move tenant database", browser.ById("drill-phases").Text, StringComparison.Ordinal);
        Assert.Empty(browser.AccessibilityViolations());
        RunPageTests.SaveScreenshot(browser, "drill-page.png");
    }
}
