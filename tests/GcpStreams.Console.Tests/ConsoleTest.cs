using Microsoft.Playwright;
using Microsoft.Playwright.NUnit;

namespace GcpStreams.Console.Tests;

/// <summary>
/// A console test: Debian's chromium (headless, launched by path: <c>GCP_CHROMIUM</c>, else <c>chromium</c> or <c>chromium-browser</c>
/// on the PATH; scripts/setup.sh installs it) with a fresh context and page per test, at a desktop size unless the test says
/// otherwise. Every console message of level error and every failed request of the console's own files fail the test (a CSP
/// violation is one). Screenshots go to the artifacts (<see cref="ShotAsync"/>).
/// </summary>
public abstract class ConsoleTest : PlaywrightTest
{
    private static readonly SemaphoreSlim Launch = new(1, 1);
    private static IBrowser? shared;
    private readonly List<string> errors = [];

    protected IBrowserContext Context { get; private set; } = null!;

    protected IPage Page { get; private set; } = null!;

    protected static string ConsoleUrl => ConsoleService.BaseUrl + "/console/";

    /// <summary>The viewport of the test's page.</summary>
    protected virtual ViewportSize Viewport => new() { Width = 1280, Height = 900 };

    /// <summary>The chromium of the machine (<c>GCP_CHROMIUM</c>, else the first of <c>chromium</c>, <c>chromium-browser</c> on the PATH).</summary>
    public static string ChromiumPath()
    {
        if (Environment.GetEnvironmentVariable("GCP_CHROMIUM") is { Length: > 0 } configured)
        {
            return configured;
        }

        foreach (var name in new[] { "chromium", "chromium-browser" })
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        Assert.Fail("No chromium on the PATH: run `make setup` (scripts/setup.sh installs Debian's chromium), or set GCP_CHROMIUM to a Chromium binary.");
        return null!;
    }

    /// <summary>Where screenshots go: <c>GCP_CONSOLE_ARTIFACTS</c>, else artifacts/test-results/console at the repository's root.</summary>
    public static string ArtifactsDirectory()
    {
        var dir = Environment.GetEnvironmentVariable("GCP_CONSOLE_ARTIFACTS");
        if (string.IsNullOrEmpty(dir))
        {
            var root = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "GcpStreams.sln")))
            {
                root = root.Parent;
            }

            dir = Path.Combine(root?.FullName ?? TestContext.CurrentContext.WorkDirectory, "artifacts", "test-results", "console");
        }

        Directory.CreateDirectory(dir);
        return dir;
    }

    [SetUp]
    public async Task OpenBrowserAsync()
    {
        SetDefaultExpectTimeout(30_000); // events travel through Kafka on a busy 2-core machine
        var browser = await BrowserAsync();
        Context = await browser.NewContextAsync(new() { ViewportSize = Viewport, Locale = "en-GB", TimezoneId = "UTC" });
        Context.SetDefaultTimeout(30_000);
        Page = await Context.NewPageAsync();
        Page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add($"console error: {message.Text}");
            }
        };
        Page.PageError += (_, error) => errors.Add($"page error: {error}");
        Page.RequestFailed += (_, request) =>
        {
            if (request.Url.Contains("/console/", StringComparison.Ordinal) && !request.Url.EndsWith("/events", StringComparison.Ordinal))
            {
                errors.Add($"request failed: {request.Url} {request.Failure}");
            }
        };
    }

    [TearDown]
    public async Task CloseBrowserAsync()
    {
        var seen = errors.ToList();
        errors.Clear();
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed && Page is not null)
        {
            await ShotAsync("failed-" + TestContext.CurrentContext.Test.MethodName);
        }

        if (Context is not null)
        {
            await Context.CloseAsync();
        }

        Assert.That(seen.Where(e => !Tolerated(e)), Is.Empty, "the page logged errors (a CSP violation is one)");
    }

    /// <summary>Closes the browser the tests share (at the end of the run).</summary>
    public static async Task CloseSharedBrowserAsync()
    {
        if (shared is { IsConnected: true } browser)
        {
            await browser.CloseAsync();
        }

        shared = null;
    }

    /// <summary>One chromium for every test (a launch costs seconds); each test has its own context (cookies, storage) and page.</summary>
    private async Task<IBrowser> BrowserAsync()
    {
        await Launch.WaitAsync();
        try
        {
            if (shared is not { IsConnected: true })
            {
                shared = await BrowserType.LaunchAsync(new() { ExecutablePath = ChromiumPath(), Headless = true, Args = ["--no-sandbox"] });
            }

            return shared;
        }
        finally
        {
            Launch.Release();
        }
    }

    /// <summary>Errors a test provokes on purpose and the browser logs for every failed response (the console shows the problem instead).</summary>
    protected virtual bool Tolerated(string error) => error.Contains("Failed to load resource: the server responded with a status of", StringComparison.Ordinal);

    /// <summary>Keeps a full-page screenshot as a test artifact (artifacts/test-results/console/NAME.png, attached to the test result).</summary>
    protected async Task ShotAsync(string name)
    {
        var path = Path.Combine(ArtifactsDirectory(), name + ".png");
        await Page.ScreenshotAsync(new() { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path, name);
    }

    /// <summary>Opens the console and signs in as a dev client with its public development secret, through the sign-in page.</summary>
    protected async Task SignInAsync(string clientId)
    {
        await Page.GotoAsync(ConsoleUrl);
        await Page.GetByLabel("Client", new() { Exact = true }).SelectOptionAsync(clientId);
        await Page.GetByLabel("Client secret").FillAsync(clientId + "-secret");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(Page.Locator("#who-name")).ToContainTextAsync(clientId);
        await Expect(Page.Locator("main h1")).ToBeFocusedAsync(); // the home page is drawn (its heading takes the focus last)
    }

    /// <summary>Opens a console page by its address fragment (e.g. <c>#/pools</c>) in the signed-in tab.</summary>
    protected async Task OpenAsync(string fragment)
    {
        await Page.GotoAsync(ConsoleUrl + fragment);
        await Expect(Page.Locator("main h1")).ToBeVisibleAsync();
    }
}
