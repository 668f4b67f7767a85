using System.Diagnostics;
using System.Drawing;
using System.Text.Json;
using Deque.AxeCore.Commons;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using RcmPitr.Testing;

namespace RcmPitr.Browser.Tests;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c>) through its <c>chromedriver</c> (<c>chromium-driver</c>), both at their
/// Debian paths unless the environment names others: nothing is downloaded. Missing, it skips the test locally and fails it when <c>CI=true</c>, like every
/// other prerequisite. Waits are bounded polls of the page, never sleeps; a wait that runs out fails with what the page
/// shows.
/// </summary>
public sealed class Chromium : IDisposable
{
    /// <summary>The browser: <c>/usr/bin/chromium</c>, or <c>$RCMPITR_CHROMIUM</c>.</summary>
    public static readonly string BrowserPath = Environment.GetEnvironmentVariable("RCMPITR_CHROMIUM") is { Length: > 0 } browser ? browser : "/usr/bin/chromium";

    /// <summary>Its driver: <c>/usr/bin/chromedriver</c>, or <c>$RCMPITR_CHROMEDRIVER</c>.</summary>
    public static readonly string DriverPath = Environment.GetEnvironmentVariable("RCMPITR_CHROMEDRIVER") is { Length: > 0 } driver ? driver : "/usr/bin/chromedriver";

    /// <summary>How long a wait lasts at most: generous, for a slow 2-core machine.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(90);

    private Chromium(ChromeDriver driver) => Driver = driver;

    /// <summary>The driver.</summary>
    public ChromeDriver Driver { get; }

    /// <summary>Starts the browser at a 1366-pixel-wide laptop window; skips or fails when it is not installed.</summary>
    public static Chromium Start()
    {
        if (!File.Exists(BrowserPath) || !File.Exists(DriverPath))
        {
            Prerequisites.Missing($"Chromium and its driver ({BrowserPath}, {DriverPath}; Debian packages chromium and chromium-driver, installed by scripts/install-prerequisites.sh)");
        }

        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,900", "--disable-gpu", "--no-first-run", "--lang=en-US");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(120));
        driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(60);
        driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(60);
        return new Chromium(driver);
    }

    /// <summary>Opens <paramref name="url"/>.</summary>
    public void Open(Uri url) => Driver.Navigate().GoToUrl(url);

    /// <summary>The element with id <paramref name="id"/>.</summary>
    public IWebElement ById(string id) => Driver.FindElement(By.Id(id));

    /// <summary>Waits until <paramref name="condition"/> holds (exceptions of a page being redrawn count as "not yet").</summary>
    public void WaitUntil(string what, Func<bool> condition, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        Exception? last = null;
        while (clock.Elapsed < limit)
        {
            try
            {
                if (condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is NoSuchElementException or StaleElementReferenceException or InvalidOperationException)
            {
                last = e;
            }

            // A poll interval, not a synchronization: the condition is what the wait waits for.
            Thread.Sleep(200);
        }

        throw new TimeoutException($"Waited {limit.TotalSeconds:0} s for {what}; {(last is null ? string.Empty : $"last error: {last.Message}; ")}the page shows:\n{VisibleText()}");
    }

    /// <summary>
    /// Clicks the element <paramref name="by"/> finds, finding it again when the page redrew it between the find and the
    /// click (the runs list and the change report are rebuilt by their refreshes, which a click can land between).
    /// </summary>
    public void Click(By by, string what) =>
        WaitUntil($"a click on {what}", () =>
        {
            Driver.FindElement(by).Click();
            return true;
        });

    /// <summary>Waits until the element <paramref name="id"/> is shown and its text contains <paramref name="text"/>.</summary>
    public void WaitForText(string id, string text, TimeSpan? timeout = null) =>
        WaitUntil($"#{id} to show \"{text}\"", () => ById(id) is { Displayed: true } e && e.Text.Contains(text, StringComparison.Ordinal), timeout);

    /// <summary>The text of the page a person sees.</summary>
    public string VisibleText()
    {
        try
        {
            return Driver.FindElement(By.TagName("body")).Text;
        }
        catch (WebDriverException e)
        {
            return $"(page unreadable: {e.Message})";
        }
    }

    /// <summary>
    /// What axe-core (Deque's engine, its bundled script) finds against WCAG 2.1 A and AA on the page as it is now: one
    /// line per violation with the elements it concerns; empty when there is none.
    /// </summary>
    public IReadOnlyList<string> AccessibilityViolations()
    {
        Driver.ExecuteScript(new BundledAxeScriptProvider().GetScript());
        var json = (string?)Driver.ExecuteAsyncScript(
            """
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
              .then((r) => done(JSON.stringify(r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`))))
              .catch((e) => done(JSON.stringify([`axe failed: ${e}`])));
            """);
        return JsonSerializer.Deserialize<List<string>>(json ?? "[\"axe returned nothing\"]")!;
    }

    /// <summary>A screenshot of the whole page at the window's width, saved as PNG.</summary>
    public void SaveFullPageScreenshot(string path)
    {
        var window = Driver.Manage().Window;
        var size = window.Size;
        var height = Convert.ToInt32(Driver.ExecuteScript("return Math.ceil(document.documentElement.scrollHeight);"), System.Globalization.CultureInfo.InvariantCulture);
        window.Size = new Size(size.Width, Math.Clamp(height + 140, size.Height, 4000));
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Driver.GetScreenshot().SaveAsFile(path);
        }
        finally
        {
            window.Size = size;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Driver.Quit();
}
